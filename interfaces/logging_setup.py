"""One logging setup for every `herald` process, made once when the command starts.

Herald's own code logs with structlog, one event per line with its keys:
`structlog.get_logger().warning("lease_lost", number=phone)`. The standard library's
loggers (uvicorn, APScheduler, eventsourcing, twilio) go through the same formatter, so a
process writes one format: JSON lines for the long-running `herald serve` and
`herald dispatch` (for a log collector), readable lines for `herald up` and the
operators' commands. Logs go to stderr; stdout is for what commands print (ids, keys).
"""

import logging
import sys
from typing import Literal

import structlog
from structlog.typing import Processor

Style = Literal["json", "console"]

# Herald's own loggers (named by module) log at the chosen level; the libraries' only
# their warnings: psycopg's pool logs three INFO lines per connection checkout, the twilio
# SDK eight per request, httpx one: lines (and CPU) per message and per callback.
HERALD_PACKAGES = ("domain", "application", "projections", "interfaces", "simulator", "harness")
# Skipped runs of a job still busy are expected under load: only APScheduler's errors are news.
QUIET = {"apscheduler": logging.ERROR}


def configure_logging(style: Style, level: int = logging.INFO) -> None:
    """Render structlog's events and the standard library's records alike, to stderr.
    Calling it again replaces the setup (the root logger keeps one handler)."""
    stamped: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *stamped,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    rendering: list[Processor]
    if style == "json":
        rendering = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        rendering = [
            structlog.dev.ConsoleRenderer(
                colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
            )
        ]
    formatter = structlog.stdlib.ProcessorFormatter(
        # A standard library record's `extra=` keys are kept as the event's keys.
        foreign_pre_chain=[*stamped, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(max(level, logging.WARNING))
    for name in HERALD_PACKAGES:
        logging.getLogger(name).setLevel(level)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
