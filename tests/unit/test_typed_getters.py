"""EventStore.get / find: the aggregate of the type asked for, or the application's
NotFound; never a database failure taken for "not found"."""

from uuid import uuid4

import pytest
from eventsourcing.persistence import OperationalError

from application.errors import NotFound
from domain.account import Account
from domain.agent import Agent
from tests.conftest import in_memory


def test_get_returns_the_aggregate_of_the_type_asked_for() -> None:
    herald = in_memory()
    account_id = herald.directory.create_account("Acme")
    assert herald.store.get(Account, account_id).name == "Acme"
    assert herald.store.find(Account, account_id) is not None


def test_a_missing_aggregate_or_one_of_another_type_is_not_found() -> None:
    herald = in_memory()
    account_id = herald.directory.create_account("Acme")
    with pytest.raises(NotFound, match=r"^agent not found$"):
        herald.store.get(Agent, account_id, "agent")
    with pytest.raises(NotFound, match=r"^account not found$"):
        herald.store.get(Account, uuid4())
    assert herald.store.find(Account, uuid4()) is None
    assert herald.store.find(Account, None) is None


def test_a_database_failure_is_raised_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    herald = in_memory()
    account_id = herald.directory.create_account("Acme")

    def outage(*args: object, **kwargs: object) -> None:
        raise OperationalError("the database went away")

    monkeypatch.setattr(herald.store.repository, "get", outage)
    with pytest.raises(OperationalError):
        herald.store.get(Account, account_id)
    with pytest.raises(OperationalError):
        herald.consents.opt_out(account_id, "+447111000001", "STOP", "sms", "STOP")
