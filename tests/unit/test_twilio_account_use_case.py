from uuid import UUID

import pytest

from application.errors import NotFound, ValidationFailed
from domain.account import Account
from tests.conftest import FakeSecrets, in_memory


def test_an_account_gets_its_own_twilio_account_and_the_log_never_holds_the_token() -> None:
    secrets = FakeSecrets()
    herald = in_memory(secrets=secrets)
    account = herald.directory.create_account("Acme")
    herald.directory.set_twilio_account(account, "AC" + "a" * 32, "s3cret-token")
    assert secrets.stored[account] == ("AC" + "a" * 32, "s3cret-token")
    assert herald.store.get(Account, account).twilio_account_sid == "AC" + "a" * 32
    notifications = herald.store.recorder.select_notifications(start=1, limit=100)
    assert b"s3cret-token" not in b"".join(n.state for n in notifications)


def test_bad_twilio_credentials_are_all_listed_and_an_unknown_account_is_404() -> None:
    directory = in_memory().directory
    with pytest.raises(ValidationFailed) as error:
        directory.set_twilio_account(directory.create_account("A"), "XX123", " ")
    assert [d["field"] for d in error.value.details] == ["account_sid", "auth_token"]
    with pytest.raises(NotFound):
        directory.set_twilio_account(UUID(int=1), "AC" + "b" * 32, "token")
