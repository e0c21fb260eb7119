"""The account's answer to HELP: set through the API and the CLI, recorded as an event."""

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

import interfaces.cli
from domain import ids
from domain.account import Account
from interfaces.bootstrap import Herald
from interfaces.cli import main
from tests.integration.conftest import Tenant


def test_help_text_defaults_to_the_account_name_and_stop_and_can_be_set_and_reset(
    herald: Herald, client: TestClient, tenant: Tenant
) -> None:
    default = client.get("/v1/account/help_text", headers=tenant.headers).json()["help_text"]
    assert default.endswith("Reply STOP to opt out.") and default.startswith("tenant ")
    text = "Acme Dental: call 0161 496 0000.\nReply STOP to opt out."
    put = client.put("/v1/account/help_text", json={"help_text": text}, headers=tenant.headers)
    assert put.status_code == 200 and put.json() == {"help_text": text}
    assert herald.store.get(Account, tenant.account_id).help_text == text  # an event
    reset = client.put("/v1/account/help_text", json={"help_text": None}, headers=tenant.headers)
    assert reset.json() == {"help_text": default}


@pytest.mark.parametrize(
    "body",
    [
        {"help_text": "Call us\x00"},
        {"help_text": "x" * 1601},
        {"help_text": ""},
        {"help_text": 7},
        {"text": "hi"},
        {},
    ],
)
def test_bad_help_text_is_refused_naming_the_field(
    herald: Herald, client: TestClient, tenant: Tenant, body: dict
) -> None:
    answer = client.put("/v1/account/help_text", json=body, headers=tenant.headers)
    assert 400 <= answer.status_code < 500, answer.text
    assert herald.store.get(Account, tenant.account_id).help_text is None


def test_the_help_text_needs_a_key(client: TestClient) -> None:
    assert client.get("/v1/account/help_text").status_code == 401
    assert client.put("/v1/account/help_text", json={"help_text": "x"}).status_code == 401


def test_the_cli_sets_the_help_text(
    herald: Herald, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interfaces.cli, "_herald", lambda: herald)
    account = ids.public_id(ids.ACCOUNT, tenant.account_id)
    runner = CliRunner()
    done = runner.invoke(main, ["accounts", "help-text", account, "Acme: 0161 496 0000"])
    assert done.exit_code == 0, done.output
    assert done.output.strip().splitlines()[-1] == "Acme: 0161 496 0000"
    back = runner.invoke(main, ["accounts", "help-text", account, "--default"])
    assert back.exit_code == 0 and back.output.strip().endswith("Reply STOP to opt out.")
    neither = runner.invoke(main, ["accounts", "help-text", account])
    assert neither.exit_code == 2 and "give TEXT, or --default" in neither.output
    bad = runner.invoke(main, ["accounts", "help-text", account, "bad\x07"])
    assert bad.exit_code == 1 and "help_text" in bad.output
