"""The rules of the agent's replies (domain/replies.py): responder settings, trimming a
thread, what answer may be sent, and quiet hours for answers."""

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.quiet_hours import QuietHours
from domain.replies import (
    MESSAGE_CHARS,
    RESPONDER_URL_CHARS,
    Turn,
    Unusable,
    answer_held_until,
    quiet_hours_exempt_until,
    responder_problems,
    system_message,
    too_old_to_answer,
    trim_thread,
    usable_answer,
)

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
LONDON = ["Europe/London"]
NIGHT = QuietHours(time(21), time(9))


def turns(count: int, chars: int = 10) -> list[Turn]:
    return [
        Turn("inbound" if i % 2 else "outbound", f"{i:0{chars}d}", T0 + timedelta(minutes=i))
        for i in range(count)
    ]


def codes(kind: str, url: str | None) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in responder_problems(kind, url)]


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("none", None),
        ("openai", None),
        ("webhook", "https://agents.example.com/herald"),
        ("webhook", "http://127.0.0.1:8080/answer?token=abc"),
    ],
)
def test_valid_responder_settings_have_no_problems(kind: str, url: str | None) -> None:
    assert responder_problems(kind, url) == []


@pytest.mark.parametrize(
    ("kind", "url", "expected"),
    [
        ("gpt", None, [("kind", "unknown_responder")]),
        ("", None, [("kind", "unknown_responder")]),
        ("Webhook", "ftp://x", [("kind", "unknown_responder"), ("url", "invalid_url")]),
        ("webhook", None, [("url", "required")]),
        ("none", "https://example.com", [("url", "not_allowed")]),
        ("openai", "https://example.com", [("url", "not_allowed")]),
        ("webhook", "ftp://example.com/x", [("url", "invalid_url")]),
        ("webhook", "javascript:alert(1)", [("url", "invalid_url")]),
        ("webhook", "https://", [("url", "invalid_url")]),
        ("webhook", "example.com/answer", [("url", "invalid_url")]),
        ("webhook", "https://exa mple.com/", [("url", "invalid_url")]),
        ("webhook", "https://exämple.com/", [("url", "invalid_url")]),
        ("webhook", "https://example.com:99999/", [("url", "invalid_url")]),
        ("webhook", "https://user:secret@example.com/", [("url", "invalid_url")]),
        ("webhook", "https://example.com/\x00", [("url", "control_character")]),
        ("webhook", "https://example.com/" + "a" * RESPONDER_URL_CHARS, [("url", "too_long")]),
    ],
)
def test_each_bad_responder_setting_names_its_field(
    kind: str, url: str | None, expected: list[tuple[str, str]]
) -> None:
    assert codes(kind, url) == expected


def test_a_short_thread_is_sent_whole() -> None:
    thread = trim_thread(turns(5))
    assert len(thread.turns) == 5 and thread.omitted == 0 and not thread.trimmed


def test_a_thread_of_1000_messages_keeps_the_newest_that_fit_and_says_so() -> None:
    thread = trim_thread(turns(1000), max_turns=50, max_chars=100_000)
    assert thread.trimmed and thread.omitted == 950
    assert [t.body for t in thread.turns] == [f"{i:010d}" for i in range(950, 1000)]


def test_the_character_budget_trims_too() -> None:
    thread = trim_thread(turns(100, chars=100), max_turns=1000, max_chars=1000)
    assert len(thread.turns) == 10 and thread.omitted == 90
    assert thread.turns[-1].body == f"{99:0100d}"


def test_the_newest_turn_is_kept_even_over_the_budget() -> None:
    thread = trim_thread(turns(3, chars=500), max_turns=10, max_chars=100)
    assert len(thread.turns) == 1 and thread.turns[0].body == f"{2:0500d}"


def test_a_thread_read_in_part_counts_what_was_not_read() -> None:
    thread = trim_thread(turns(60), max_turns=50, total=1000)
    assert len(thread.turns) == 50 and thread.omitted == 950


@given(st.integers(1, 300), st.integers(1, 80), st.integers(1, 3000))
def test_trimming_keeps_a_newest_run_within_the_budgets(
    count: int, max_turns: int, max_chars: int
) -> None:
    thread = trim_thread(turns(count, chars=7), max_turns=max_turns, max_chars=max_chars)
    kept = len(thread.turns)
    assert kept + thread.omitted == count
    assert 1 <= kept <= max_turns
    assert kept == 1 or sum(len(t.body) for t in thread.turns) <= max_chars
    assert list(thread.turns) == turns(count, chars=7)[count - kept :]


def test_the_system_message_notes_left_out_turns() -> None:
    assert system_message("Be kind.", 50, 0) == "Be kind."
    noted = system_message("Be kind.", 50, 950)
    assert noted.startswith("Be kind.\n\n") and "1000 messages" in noted and "newest 50" in noted
    assert system_message("", 50, 950).startswith("(This conversation has 1000")


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ("", "empty_answer"),
        ("   \n ", "empty_answer"),
        ("x" * (MESSAGE_CHARS + 1), "unusable_answer"),
        ("bad \x00 byte", "unusable_answer"),
        ("lone \ud800", "unusable_answer"),
        (None, "unusable_answer"),
        (42, "unusable_answer"),
        ({"text": "hi"}, "unusable_answer"),
    ],
)
def test_an_answer_that_cannot_be_sent_is_unusable(answer: object, code: str) -> None:
    found = usable_answer(answer)
    assert isinstance(found, Unusable) and found.code == code


def test_a_usable_answer_is_trimmed_of_surrounding_space() -> None:
    assert usable_answer("  See you at 3pm!\n") == "See you at 3pm!"
    assert usable_answer("Line one\nline two\ttab") == "Line one\nline two\ttab"
    assert usable_answer("x" * MESSAGE_CHARS) == "x" * MESSAGE_CHARS


def test_an_answer_to_a_message_received_within_the_hour_is_not_held() -> None:
    received = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)  # 22:30 in London: quiet hours
    exempt_until = quiet_hours_exempt_until(received)
    now = received + timedelta(minutes=5)
    assert answer_held_until(NIGHT, LONDON, now, exempt_until) is None
    almost = received + timedelta(minutes=59, seconds=59)
    assert answer_held_until(NIGHT, LONDON, almost, exempt_until) is None


def test_an_answer_later_than_an_hour_or_unprompted_is_held_until_morning() -> None:
    received = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)
    morning = datetime(2026, 11, 27, 9, tzinfo=UTC)
    late = received + timedelta(hours=1)
    assert answer_held_until(NIGHT, LONDON, late, quiet_hours_exempt_until(received)) == morning
    assert answer_held_until(NIGHT, LONDON, received, None) == morning  # unprompted


def test_quiet_hours_off_or_daytime_never_hold() -> None:
    assert answer_held_until(None, LONDON, datetime(2026, 11, 26, 23, tzinfo=UTC), None) is None
    assert answer_held_until(NIGHT, LONDON, T0, None) is None


def test_a_reply_is_answered_within_a_day_of_its_arrival() -> None:
    received = datetime(2026, 11, 26, 12, tzinfo=UTC)
    assert not too_old_to_answer(received, received + timedelta(hours=24))
    assert too_old_to_answer(received, received + timedelta(hours=24, seconds=1))
