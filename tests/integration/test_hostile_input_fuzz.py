"""Hostile text through every endpoint and CLI command that records something: NUL and other
control characters, lone surrogates (escaped in JSON, as `\\ud800`), and lengths past every
limit. Each is refused (4xx, exit status 1 or 2), and the event log does not grow."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

import interfaces.cli
from domain import ids
from interfaces.bootstrap import Herald
from tests.integration.conftest import Tenant, campaign_body
from tests.integration.test_hostile_requests import recorded

# Refused in every text field (tab, newline and carriage return pass in multi-line ones).
CONTROL = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))]
SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)

hostile = st.one_of(
    st.tuples(
        st.text(max_size=20), st.sampled_from(CONTROL) | SURROGATES, st.text(max_size=20)
    ).map("".join),
    st.integers(20_001, 60_000).map(lambda n: "x" * n),  # past every text limit
)

Body = Callable[[Tenant, str], tuple[str, dict[str, Any]]]


def _agent(field: str) -> Body:
    return lambda t, text: ("/v1/agents", {"name": "Desk", "system_prompt": ""} | {field: text})


def _number(field: str) -> Body:
    return lambda t, text: (
        "/v1/numbers",
        {"phone_number": "+447446411111", "agent_id": t.agent_id} | {field: text},
    )


def _sms(field: str) -> Body:
    base = {"to": "+447111000001", "message": "Hi"}
    return lambda t, text: (
        "/v1/sms",
        {"agent_id": t.agent_id, "from_number": t.from_number, **base} | {field: text},
    )


def _campaign(field: str) -> Body:
    return lambda t, text: ("/v1/sms/campaigns", campaign_body(t, **{field: text}))


def _recipient(make: Callable[[str], dict[str, Any]]) -> Body:
    return lambda t, text: (
        "/v1/sms/campaigns",
        campaign_body(t, recipients=[{"phone": "+447111000002"}, make(text)]),
    )


TARGETS: dict[str, Body] = {
    "agent name": _agent("name"),
    "agent system_prompt": _agent("system_prompt"),
    "number phone_number": _number("phone_number"),
    "number agent_id": _number("agent_id"),
    "sms to": _sms("to"),
    "sms from_number": _sms("from_number"),
    "sms message": _sms("message"),
    "sms agent_id": _sms("agent_id"),
    "campaign name": _campaign("name"),
    "campaign message_template": _campaign("message_template"),
    "campaign agent_id": _campaign("agent_id"),
    "campaign from_number": _campaign("from_number"),
    "recipient phone": _recipient(lambda text: {"phone": text}),
    "variable name": _recipient(lambda text: {"phone": "+447111000003", "variables": {text: "x"}}),
    "variable value": _recipient(lambda text: {"phone": "+447111000003", "variables": {"v": text}}),
}


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(target=st.sampled_from(sorted(TARGETS)), text=hostile)
def test_no_hostile_text_reaches_the_log_through_the_api(
    client: TestClient, herald: Herald, tenant: Tenant, target: str, text: str
) -> None:
    path, body = TARGETS[target](tenant, text)
    before = recorded(herald)
    # ensure_ascii: a surrogate travels as the escape `\ud800`, as a hostile client sends it.
    content = json.dumps(body, ensure_ascii=True).encode()
    response = client.post(
        path, content=content, headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422), (target, response.status_code, response.text)
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert recorded(herald) == before


@pytest.fixture
def cli(herald: Herald, monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    """`herald …` in this process, on the session's database; returns the exit status."""
    monkeypatch.setattr(interfaces.cli, "_herald", lambda: herald)
    runner = CliRunner()

    def run(*args: str) -> int:
        return runner.invoke(interfaces.cli.main, list(args)).exit_code

    return run


COMMANDS: dict[str, Callable[[Tenant, str], list[str]]] = {
    "accounts create": lambda t, text: ["accounts", "create", text],
    "agents create --name": lambda t, text: [
        *("agents", "create", "--account", _account(t), "--name", text),
    ],
    "agents create --system-prompt": lambda t, text: [
        *("agents", "create", "--account", _account(t), "--name", "a", "--system-prompt", text),
    ],
    "numbers add --phone": lambda t, text: [
        *("numbers", "add", "--account", _account(t), "--agent", t.agent_id, "--phone", text),
    ],
    "numbers add --agent": lambda t, text: [
        *("numbers", "add", "--account", _account(t), "--agent", text, "--phone", "+447446422222"),
    ],
    "keys create --account": lambda t, text: ["keys", "create", "--account", text],
    "accounts twilio --token": lambda t, text: [
        *("accounts", "twilio", _account(t), "--sid", "AC" + "2" * 32, "--token", text),
    ],
}


def _account(tenant: Tenant) -> str:
    return ids.public_id(ids.ACCOUNT, tenant.account_id)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(command=st.sampled_from(sorted(COMMANDS)), text=hostile)
def test_no_hostile_text_reaches_the_log_through_the_cli(
    cli: Callable[..., int], herald: Herald, tenant: Tenant, command: str, text: str
) -> None:
    before = recorded(herald)
    assert cli(*COMMANDS[command](tenant, text)) in (1, 2), command
    assert recorded(herald) == before


@pytest.mark.parametrize("mps", ["٣", "5.0", "", "99999999999"])
def test_the_cli_reads_numbers_in_ascii_digits_only(
    cli: Callable[..., int], herald: Herald, tenant: Tenant, mps: str
) -> None:
    before = recorded(herald)
    args = ["numbers", "add", "--account", _account(tenant), "--agent", tenant.agent_id]
    assert cli(*args, "--phone", "+447446433333", "--mps", mps) in (1, 2)
    assert recorded(herald) == before
