from uuid import UUID

import pytest

from application.directory import Directory
from application.errors import NotFound, ValidationFailed
from application.store import EventStore
from domain.account import Account
from tests.unit.test_campaign_use_cases import FakeReadModels


class FakeSecrets:
    def __init__(self) -> None:
        self.stored: dict[UUID, tuple[str, str]] = {}

    def store(self, account_id: UUID, sid: str, token: str) -> None:
        self.stored[account_id] = (sid, token)


def test_an_account_gets_its_own_twilio_account_and_the_log_never_holds_the_token() -> None:
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    secrets = FakeSecrets()
    directory = Directory(store, FakeReadModels(), secrets=secrets)
    account = directory.create_account("Acme")
    directory.set_twilio_account(account, "AC" + "a" * 32, "s3cret-token")
    assert secrets.stored[account] == ("AC" + "a" * 32, "s3cret-token")
    loaded = store.repository.get(account)
    assert isinstance(loaded, Account) and loaded.twilio_account_sid == "AC" + "a" * 32
    log = b"".join(n.state for n in store.recorder.select_notifications(start=1, limit=100))
    assert b"s3cret-token" not in log


def test_bad_twilio_credentials_are_all_listed_and_an_unknown_account_is_404() -> None:
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    directory = Directory(store, FakeReadModels(), secrets=FakeSecrets())
    with pytest.raises(ValidationFailed) as error:
        directory.set_twilio_account(directory.create_account("A"), "XX123", " ")
    assert [d["field"] for d in error.value.details] == ["account_sid", "auth_token"]
    with pytest.raises(NotFound):
        directory.set_twilio_account(UUID(int=1), "AC" + "b" * 32, "token")
