"""Accord: a self-hosted hub through which member organisations run an information-exchange centre."""

__version__ = "0.1.0"
