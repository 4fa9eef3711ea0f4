"""Meetings: activity statistics with drill-down, the meeting cycle (summaries, minutes, communiqué approval
with frozen figures), and HTML/PDF outputs in en, fr, ar, ru and fa."""

from accord.meetings.figures import FIGURES, FigureDef, register
from accord.meetings.service import Meetings
from accord.meetings.stats import Statistics

__all__ = ["FIGURES", "FigureDef", "Meetings", "Statistics", "register"]
