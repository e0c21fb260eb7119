"""Conversation: inbound messages recorded once per SID, in a thread per (account, number, phone)."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from domain.conversation import Conversation, conversation_id
from domain.keywords import read

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def a_conversation() -> Conversation:
    return Conversation(
        account_id=uuid4(), agent_id=uuid4(), number="+447400000001", phone="+447111000001"
    )


def test_its_id_comes_from_account_number_and_phone() -> None:
    conversation = a_conversation()
    assert conversation.id == conversation_id(
        conversation.account_id, conversation.number, conversation.phone
    )
    assert (
        conversation_id(conversation.account_id, "+447400000002", conversation.phone)
        != conversation.id
    )


def test_the_same_sid_twice_is_recorded_once() -> None:
    conversation = a_conversation()
    reply = read("Yes please", opted_out=False)
    assert conversation.receive("SM" + "1" * 32, "Yes please", AT, reply, None)
    assert not conversation.receive("SM" + "1" * 32, "Yes please", AT, reply, None)
    events = conversation.collect_events()
    assert [type(e).__name__ for e in events] == ["Started", "MessageReceived"]


def test_an_inbound_message_records_its_keyword_and_what_it_answers() -> None:
    conversation = a_conversation()
    message_id = uuid4()
    conversation.receive("SM" + "2" * 32, " stop! ", AT, read(" stop! ", False), message_id)
    received = conversation.collect_events()[-1]
    assert received.kind == "opt_out"  # type: ignore[attr-defined]
    assert received.keyword == "STOP"  # type: ignore[attr-defined]
    assert received.in_reply_to == message_id  # type: ignore[attr-defined]
    assert received.body == " stop! "  # type: ignore[attr-defined]


def test_a_reply_awaits_an_answer_from_its_first_unanswered_time() -> None:
    conversation = a_conversation()
    conversation.receive("SM" + "3" * 32, "STOP", AT, read("STOP", False), None)
    assert conversation.awaiting_reply_since is None  # keywords are not replies
    conversation.receive("SM" + "4" * 32, "When?", AT, read("When?", True), None)
    later = AT + timedelta(minutes=1)
    conversation.receive("SM" + "5" * 32, "Hello?", later, read("Hello?", True), None)
    assert conversation.awaiting_reply_since == AT
    assert conversation.last_inbound_at == later
