"""The first stop signal asks the process to stop; any later one, even one whose handler runs
inside the first handler (Python runs handlers between bytecodes), is only noted."""

import signal
from typing import Any

import pytest

from interfaces import stopping
from interfaces.stopping import StopRequest


class Log:
    """Records what the handler logs; the first line logged lets a second signal arrive."""

    def __init__(self, on_first_line: Any = None) -> None:
        self.lines: list[tuple[str, str]] = []
        self.on_first_line = on_first_line

    def info(self, event: str, signal: str) -> None:
        if self.on_first_line is not None:
            nested, self.on_first_line = self.on_first_line, None
            nested()  # the second signal's handler, run inside the first one's logging
        self.lines.append((event, signal))


def test_a_second_signal_is_only_noted(monkeypatch: pytest.MonkeyPatch) -> None:
    log = Log()
    monkeypatch.setattr(stopping, "log", log)
    request = StopRequest()
    calls: list[str] = []
    request.on_stop(lambda: calls.append("stop"))

    request._on_signal(signal.SIGINT, None)
    request._on_signal(signal.SIGTERM, None)

    assert request.requested
    assert log.lines == [("stopping", "SIGINT"), ("already_stopping", "SIGTERM")]
    assert calls == ["stop"]


def test_a_signal_arriving_inside_the_first_handler_is_only_noted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    request = StopRequest()
    log = Log(on_first_line=lambda: request._on_signal(signal.SIGTERM, None))
    monkeypatch.setattr(stopping, "log", log)
    calls: list[str] = []
    request.on_stop(lambda: calls.append("stop"))

    request._on_signal(signal.SIGINT, None)

    assert request.requested
    assert sorted(log.lines) == [("already_stopping", "SIGTERM"), ("stopping", "SIGINT")]
    assert calls == ["stop"]
