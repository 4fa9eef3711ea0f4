"""Settings: each setting is declared once, with its default, help text and environment variable.

Precedence, lowest first: the declared default, the config file (TOML, ``$ACCORD_DATA/accord.toml`` or the
file named by ``ACCORD_CONFIG``), environment variables, explicit overrides (CLI flags, tests).
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from accord.errors import ConfigError

__all__ = ["SETTINGS", "Setting", "Settings", "load_settings"]


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str

    @property
    def env(self) -> str:
        return "ACCORD_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("data", "./var", "Directory holding the embedded store, uploads and the config file."),
    Setting("database_url", "", "SQLAlchemy URL; empty means the embedded SQLite file under the data directory."),
    Setting("environment", "development", "development | production; production refuses insecure defaults."),
    Setting("secret_key", "", "Secret used to sign session cookies and CSRF tokens (required in production)."),
    Setting("host", "127.0.0.1", "Address the HTTP server listens on."),
    Setting("port", 8000, "Port the HTTP server listens on."),
    Setting("log_format", "json", "json | text: JSON lines (one object per record, with request ids) or plain text."),
    Setting("log_level", "info", "debug | info | warning | error."),
    Setting("shutdown_grace", 30, "Seconds a stopping server waits for in-flight requests to finish."),
    Setting("read_pool_size", 8, "Number of pooled read connections."),
    Setting("max_body_bytes", 32 * 1024 * 1024, "Largest accepted HTTP request body, in bytes."),
    Setting("max_batch", 10_000, "Largest number of objects accepted in one bulk request."),
    Setting("derive_inline_max", 100, "Writes of more items than this run the STIX and correlation work just "
            "after commit (queued, see accord.sharing.derived) instead of inside the write."),
    Setting("max_string", 1_000_000, "Longest accepted text field (report body), in characters."),
    Setting("max_name", 1_000, "Longest accepted short text field (titles, names, tags), in characters."),
    Setting("page_size_default", 50, "Items per page when the client does not say."),
    Setting("page_size_max", 1_000, "Largest page a client may ask for."),
    Setting("token_days", 90, "Default lifetime of a new API token, in days."),
    Setting("session_hours", 12, "Lifetime of a login session, in hours."),
    Setting("login_max_failures", 5, "Failed logins in a row before an account is locked for a while."),
    Setting("login_lock_minutes", 15, "How long an account stays locked after too many failed logins."),
    Setting("audit_reads", True, "Record every read of item content in the audit trail."),
    Setting("argon2_memory_kib", 65536, "Memory cost of password hashing (argon2id), KiB; lower only for tests."),
    Setting("argon2_time_cost", 3, "Iterations of password hashing (argon2id); lower only for tests."),
    Setting("correlation_distance_m", 500, "Observations this close (metres) and within the window correlate."),
    Setting("correlation_window_hours", 48, "Observations this close in time (hours) and in distance correlate."),
    Setting("correlation_noisy_limit", 50, "A value shared by more items than this is flagged noisy, not linked."),
)


def _coerce(setting: Setting, raw: Any) -> Any:
    default = setting.default
    try:
        if isinstance(default, bool):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            value = int(raw)
            if value < (1 if setting.name == "read_pool_size" else 0):
                raise ConfigError(f"setting {setting.name} ({setting.env}): must be at least "
                                  f"{1 if setting.name == 'read_pool_size' else 0}, not {value}")
            return value
        return str(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"setting {setting.name} ({setting.env}): cannot read {raw!r} as {type(default).__name__}") from None


@dataclass(frozen=True)
class Settings:
    data: str = "./var"
    database_url: str = ""
    environment: str = "development"
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    log_format: str = "json"
    log_level: str = "info"
    shutdown_grace: int = 30
    read_pool_size: int = 8
    max_body_bytes: int = 32 * 1024 * 1024
    max_batch: int = 10_000
    derive_inline_max: int = 100
    max_string: int = 1_000_000
    max_name: int = 1_000
    page_size_default: int = 50
    page_size_max: int = 1_000
    token_days: int = 90
    session_hours: int = 12
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    audit_reads: bool = True
    argon2_memory_kib: int = 65536
    argon2_time_cost: int = 3
    correlation_distance_m: int = 500
    correlation_window_hours: int = 48
    correlation_noisy_limit: int = 50
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def data_path(self) -> Path:
        return Path(self.data).expanduser().resolve()

    @property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_path / 'accord.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def _secret_for(settings: Settings) -> str:
    """Development installs get a persisted random secret so sessions survive restarts."""
    path = settings.data_path / "secret.key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    data_dir = overrides.get("data") or env.get("ACCORD_DATA") or values["data"]
    config_file = Path(env.get("ACCORD_CONFIG") or Path(data_dir) / "accord.toml")
    if env.get("ACCORD_CONFIG") and not config_file.exists():
        raise ConfigError(f"config file {config_file} (ACCORD_CONFIG): no such file")
    if config_file.exists():
        try:
            parsed = tomllib.loads(config_file.read_bytes().decode())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {config_file}: {exc}") from exc
        except UnicodeDecodeError:
            raise ConfigError(f"config file {config_file}: not UTF-8 text") from None
        except OSError as exc:
            raise ConfigError(f"config file {config_file}: {exc.strerror or exc}") from None
        known = {s.name for s in SETTINGS}
        for key, raw in parsed.items():
            if key not in known:
                raise ConfigError(f"config file {config_file}: unknown setting {key!r}")
            values[key] = raw
    by_name = {s.name: s for s in SETTINGS}
    for s in SETTINGS:
        if s.env in env:
            values[s.name] = env[s.env]
    for key, raw in overrides.items():
        if raw is None:
            continue
        if key not in by_name:
            raise ConfigError(f"unknown setting {key!r}")
        values[key] = raw
    coerced = {name: _coerce(by_name[name], raw) for name, raw in values.items()}
    settings = Settings(**coerced)
    if settings.environment not in {"development", "production"}:
        raise ConfigError("setting environment: must be development or production")
    if not settings.secret_key:
        if settings.environment == "production":
            raise ConfigError("setting secret_key (ACCORD_SECRET_KEY) is required in production")
        settings = replace(settings, secret_key=_secret_for(settings))
    elif settings.environment == "production" and len(settings.secret_key) < 32:
        raise ConfigError("setting secret_key must be at least 32 characters in production")
    if settings.environment == "production" and (settings.argon2_memory_kib < 19456 or settings.argon2_time_cost < 2):
        raise ConfigError("argon2 settings below the OWASP minimum (19 MiB, 2 iterations) are refused in production")
    return settings


def describe() -> list[tuple[str, str, str]]:
    """(env var, default, help) for every setting, for `accord --help` and the README."""
    return [(s.env, repr(s.default), s.help) for s in SETTINGS]

