"""Logging: one configuration for Django and gunicorn, plain lines or JSON lines.

`LOG_FORMAT=plain` gives readable lines (the default with DEBUG on); `LOG_FORMAT=json` gives
one JSON object per line (the default with DEBUG off), which a platform's log stream can
search. Every line carries the id of the request it belongs to (`request_id`), set by
`shop.middleware.RequestIdMiddleware`, and any `extra={...}` fields the code passed, so
`grep '"order": "B-1042"'` finds what happened to an order.

This module imports nothing from Django: gunicorn.conf.py uses it before Django starts.
"""

import contextvars
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

NO_REQUEST = "-"

# The id of the request being handled in this thread or task, "-" outside a request.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar(
    "request_id", default=NO_REQUEST
)

# Record attributes that are not "extra" fields: the standard ones, Python 3.12's taskName,
# the request object Django's own loggers attach, and the fields this module adds itself.
_NOT_EXTRA = {
    *RESERVED_ATTRS,
    "taskName",
    "request",
    "server_time",
    "request_id",
    "color_message",
}


class RequestIdFilter(logging.Filter):
    """Put `request_id` on every record: the request's, or "-" outside a request.

    Django logs a failed request ("Not Found: ...", "Internal Server Error: ...") after the
    middleware has returned, with the request attached: its id is taken from there.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None):
            return True
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


class GunicornAccessFilter(logging.Filter):
    """Turn gunicorn's access-log atoms into fields: method, path, status, duration, id.

    The request id comes from the response's `X-Request-ID` header, since gunicorn writes
    its access line after Django has finished with the request.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args
        if not isinstance(atoms, dict):
            return True
        record.request_id = atoms.get("{x-request-id}o") or NO_REQUEST
        record.http_method = atoms.get("m")
        record.path = atoms.get("U")
        record.status = _int_or_none(atoms.get("s"))
        record.duration_ms = _int_or_none(atoms.get("M"))
        record.remote_addr = atoms.get("h")
        return True


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, extras, traceback."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", ["asctime", "levelname", "name", "message", "request_id"])
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level"})
        kwargs.setdefault("reserved_attrs", sorted(_NOT_EXTRA))
        super().__init__(**kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """ISO 8601 in UTC, with milliseconds."""
        return _iso_time(record)


class PlainFormatter(logging.Formatter):
    """`time LEVEL logger [request id] message key=value...`, then the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        extras = " ".join(
            f"{key}={value}"
            for key, value in record.__dict__.items()
            if key not in _NOT_EXTRA and not key.startswith("_")
        )
        line = (
            f"{_iso_time(record)} {record.levelname} {record.name} "
            f"[{getattr(record, 'request_id', NO_REQUEST)}] {record.message}"
        )
        if extras:
            line = f"{line} {extras}"
        if record.exc_info:
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            line = f"{line}\n{record.exc_text}"
        if record.stack_info:
            line = f"{line}\n{self.formatStack(record.stack_info)}"
        return line


class QuietDisallowedHost(logging.Filter):
    """A request for a host outside ALLOWED_HOSTS (bots scanning addresses) is answered 400
    and logged as one WARNING line, without the traceback Django attaches at ERROR: it is
    noise to read, not an error to be alerted about."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.levelno = logging.WARNING
        record.levelname = logging.getLevelName(logging.WARNING)
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return logging.getLogger(record.name).isEnabledFor(logging.WARNING)


def running_management_command(argv: list[str]) -> bool:
    """Whether this process is `manage.py <command>` (or django-admin, python -m django)."""
    if not argv:
        return False
    program = Path(argv[0])
    return program.name in {"manage.py", "django-admin"} or program.parts[-2:] == (
        "django",
        "__main__.py",
    )


def _iso_time(record: logging.LogRecord) -> str:
    # UTC: Django sets the process's time zone (TIME_ZONE) in workers, not in gunicorn's master.
    return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")


def build_logging_config(
    *, log_format: str, level: str = "INFO", stream: str = "stdout"
) -> dict[str, Any]:
    """The `logging.config.dictConfig` dictionary for Django (LOGGING) and gunicorn.

    Everything goes to one stream: stdout for the web processes, where a Procfile platform
    collects it; stderr for management commands (`stream="stderr"`), whose stdout is their
    output (`manage.py dumpdata > backup.json` must stay valid JSON). gunicorn's loggers are
    configured here too, so its access and error lines share the format.
    """
    if log_format not in {"json", "plain"}:
        raise ValueError(f"LOG_FORMAT must be 'json' or 'plain', not {log_format!r}")
    if stream not in {"stdout", "stderr"}:
        raise ValueError(f"the log stream is 'stdout' or 'stderr', not {stream!r}")
    formatter = "shop.logs.JsonFormatter" if log_format == "json" else "shop.logs.PlainFormatter"
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "shop.logs.RequestIdFilter"},
            "gunicorn_access": {"()": "shop.logs.GunicornAccessFilter"},
            "quiet_disallowed_host": {"()": "shop.logs.QuietDisallowedHost"},
        },
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": f"ext://sys.{stream}",
                "formatter": "default",
                "filters": ["request_id"],
            },
            "access": {
                "class": "logging.StreamHandler",
                "stream": f"ext://sys.{stream}",
                "formatter": "default",
                "filters": ["gunicorn_access"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own handlers (console only with DEBUG, mail to ADMINS) are replaced:
            # everything reaches the one console handler through the root logger.
            "django": {"handlers": [], "level": level, "propagate": True},
            "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "django.security.DisallowedHost": {"filters": ["quiet_disallowed_host"]},
            # django-axes announces itself at every start, management commands included.
            "axes.apps": {"level": "WARNING"},
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
            "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }
