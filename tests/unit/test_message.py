"""The Message aggregate's status callbacks: each records the Herald status it reports,
and only a later status changes the message."""

from datetime import UTC, datetime
from uuid import uuid4

from domain.message import Message
from domain.sending import callback_status
from domain.status import RecipientStatus
from tests.conftest import a_message

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def message() -> Message:
    return a_message(NOW)


def test_a_status_callback_records_the_herald_status_it_reports() -> None:
    sms = message()
    sms.status_reported("sending", "SM1", None, None, NOW)
    reported = sms.collect_events()[-1]
    assert (reported.status, reported.herald_status) == ("sending", "queued")  # type: ignore[attr-defined]
    assert sms.status == RecipientStatus.QUEUED


def test_a_report_made_without_loading_the_message_records_the_same_status() -> None:
    event = Message.status_report(uuid4(), 3, "undelivered", "SM1", 30003, "unreachable", NOW)
    assert event.herald_status == callback_status("undelivered")  # type: ignore[attr-defined]
    assert event.originator_version == 4


def test_late_sent_callback_does_not_undo_delivered() -> None:
    sms = message()
    sms.status_reported("delivered", "SM1", None, None, NOW)
    sms.status_reported("sent", "SM1", None, None, NOW)
    assert sms.status == RecipientStatus.DELIVERED
    assert [e.herald_status for e in sms.collect_events()[1:]] == ["delivered", "sent"]  # type: ignore[attr-defined]
