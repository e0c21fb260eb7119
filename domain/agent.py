"""Agents and the sender numbers they own.

An agent answers replies to its numbers through its responder (domain/replies.py):
`none` until `ResponderSet` records another (`webhook` with its URL, or `openai`)."""

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event


class Agent(Aggregate):
    @event("Created")
    def __init__(self, account_id: UUID, name: str, system_prompt: str) -> None:
        self.account_id = account_id
        self.name = name
        self.system_prompt = system_prompt
        self.responder_kind = "none"
        self.responder_url: str | None = None

    @event("ResponderSet")
    def set_responder(self, kind: str, url: str | None) -> None:
        """Who writes the agent's answers from now on (checked by replies.responder_problems)."""
        self.responder_kind = kind
        self.responder_url = url


class SenderNumber(Aggregate):
    """An imported Twilio number. Its id comes from the number, so it is imported once."""

    @event("Imported")
    def __init__(self, account_id: UUID, agent_id: UUID, phone_number: str, mps: int) -> None:
        self.account_id = account_id
        self.agent_id = agent_id
        self.phone_number = phone_number
        self.mps = mps

    @staticmethod
    def create_id(account_id: UUID, agent_id: UUID, phone_number: str, mps: int) -> UUID:
        return number_id(phone_number)


def number_id(phone_number: str) -> UUID:
    return uuid5(NAMESPACE_URL, "herald:number:" + phone_number)
