"""The agent's replies: which responders there are, how much of a thread a responder is
sent, what a usable answer is, and when quiet hours hold an answer.

An agent's responder is `none` (replies are stored, nobody answers: the default),
`webhook` (the thread is POSTed to the agent's URL) or `openai` (an OpenAI-compatible chat
completions endpoint named in the settings). A responder is sent the newest turns of the
thread that fit a budget, and is told when older ones were left out. Its answer is sent
only if it is text a message can carry. An answer to a message received within the last
hour answers the person and goes at any hour; anything later is held by quiet hours like
any other message.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from domain.quiet_hours import QuietHours, held_until
from domain.text import MESSAGE_CHARS, text_problem


class ResponderKind(StrEnum):
    NONE = "none"
    WEBHOOK = "webhook"
    OPENAI = "openai"


KINDS = tuple(k.value for k in ResponderKind)
RESPONDER_URL_CHARS = 2000

# What a responder is sent at most: the newest turns that fit both budgets. 50 turns of
# SMS (at most 160 characters each, mostly) fit any chat model's context many times over.
THREAD_TURNS = 50
THREAD_CHARS = 16_000  # >= MESSAGE_CHARS, so the newest turn always fits

# An answer sent within this long of the message it answers is not held by quiet hours.
PROMPTED_WINDOW = timedelta(hours=1)
# Replies waiting longer (e.g. from before the agent had a responder) are not answered:
# an answer days late, to every old reply at once, is not what anyone asked for.
ANSWER_WITHIN = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    code: str
    reason: str


def responder_problems(kind: str, url: str | None) -> list[Problem]:
    """Everything wrong with a responder setting, or nothing."""
    kinds = ", ".join(KINDS)
    if kind not in KINDS:
        problems = [Problem("kind", "unknown_responder", f"must be one of {kinds}")]
        return problems + (_url_problems(url) if url is not None else [])
    if kind != ResponderKind.WEBHOOK:
        if url is not None:
            return [Problem("url", "not_allowed", f"only a webhook responder has a URL ({kind})")]
        return []
    if url is None:
        return [Problem("url", "required", "a webhook responder needs the URL to POST to")]
    return _url_problems(url)


def _url_problems(url: str) -> list[Problem]:
    found = text_problem(url, RESPONDER_URL_CHARS)
    if found is not None:
        return [Problem("url", found.code, found.reason)]
    if not url.isascii() or any(c.isspace() for c in url):
        return [Problem("url", "invalid_url", "must be ASCII without spaces (percent-encode)")]
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range or not a number
    except ValueError as error:
        return [Problem("url", "invalid_url", f"is not a URL ({error})")]
    if parts.scheme not in ("http", "https"):
        return [Problem("url", "invalid_url", "must be an http:// or https:// URL")]
    if not parts.hostname:
        return [Problem("url", "invalid_url", "must name a host")]
    if parts.username is not None or parts.password is not None:
        # It would be recorded in the event log and shown by GET /v1/agents.
        return [Problem("url", "invalid_url", "must not carry a user name or password")]
    return []


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of a thread, as a responder sees it."""

    direction: str  # "inbound" (from the phone) or "outbound" (to it)
    body: str
    at: datetime


@dataclass(frozen=True, slots=True)
class TrimmedThread:
    turns: tuple[Turn, ...]  # oldest first
    omitted: int  # older turns left out

    @property
    def trimmed(self) -> bool:
        return self.omitted > 0


def trim_thread(
    turns: Sequence[Turn],
    max_turns: int = THREAD_TURNS,
    max_chars: int = THREAD_CHARS,
    total: int | None = None,
) -> TrimmedThread:
    """The newest of `turns` (oldest first) that fit both budgets; the newest is always
    kept. `total`: how many the whole thread has, when `turns` is only its newest part."""
    kept: list[Turn] = []
    chars = 0
    for turn in reversed(turns):
        if kept and (len(kept) >= max_turns or chars + len(turn.body) > max_chars):
            break
        kept.append(turn)
        chars += len(turn.body)
    whole = len(turns) if total is None else max(total, len(turns))
    return TrimmedThread(tuple(reversed(kept)), whole - len(kept))


def system_message(system_prompt: str, shown: int, omitted: int) -> str:
    """The agent's system prompt, with a note when older turns were left out."""
    if not omitted:
        return system_prompt
    note = f"(This conversation has {shown + omitted} messages; only the newest {shown} are shown.)"
    return f"{system_prompt}\n\n{note}" if system_prompt else note


@dataclass(frozen=True, slots=True)
class Unusable:
    code: str
    reason: str


def usable_answer(text: object) -> str | Unusable:
    """The answer to send (surrounding whitespace removed), or why it cannot be sent."""
    if not isinstance(text, str):
        return Unusable("unusable_answer", f"is {type(text).__name__}, not text")
    answer = text.strip()
    if not answer:
        return Unusable("empty_answer", "is empty")
    found = text_problem(answer, MESSAGE_CHARS, multiline=True)
    if found is not None:
        return Unusable("unusable_answer", found.reason)
    return answer


def too_old_to_answer(received_at: datetime, now: datetime) -> bool:
    """Whether the newest reply of a conversation waited too long to be answered now."""
    return now - received_at > ANSWER_WITHIN


def quiet_hours_exempt_until(received_at: datetime) -> datetime:
    """Until when an answer to a message received at `received_at` goes at any hour."""
    return received_at + PROMPTED_WINDOW


def exempt(exempt_until: datetime | None, at: datetime) -> bool:
    """Whether a message going at `at` answers a recent message (quiet hours do not hold it)."""
    return exempt_until is not None and at < exempt_until


def answer_held_until(
    policy: QuietHours | None, zones: Sequence[str], at: datetime, exempt_until: datetime | None
) -> datetime | None:
    """Until when quiet hours hold a message going at `at`: never while it answers a
    recent message, else as any message."""
    return None if exempt(exempt_until, at) else held_until(policy, zones, at)
