"""An agent's responder: set through the API and the CLI, recorded as an event, shown on
GET /v1/agents; every bad setting refused with its field and value."""

from click.testing import CliRunner
from litestar.testing import TestClient

from domain import ids
from domain.agent import Agent
from interfaces.bootstrap import Herald
from interfaces.cli import main
from interfaces.settings import from_env
from tests.integration.conftest import Tenant


def responder_of(client: TestClient, tenant: Tenant) -> dict[str, object]:  # type: ignore[type-arg]
    agents = client.get("/v1/agents", headers=tenant.headers).json()
    return next(a for a in agents if a["agent_id"] == tenant.agent_id)["responder"]


def test_an_agent_stores_replies_only_until_a_responder_is_set(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    herald: Herald,
) -> None:
    assert responder_of(client, tenant) == {"kind": "none", "url": None}
    url = f"/v1/agents/{tenant.agent_id}/responder"
    hook = {"kind": "webhook", "url": "https://agents.example.com/herald?k=1"}
    answer = client.put(url, json=hook, headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["responder"] == hook
    assert responder_of(client, tenant) == hook
    assert client.put(url, json={"kind": "openai"}, headers=tenant.headers).status_code == 200
    assert responder_of(client, tenant) == {"kind": "openai", "url": None}
    agent_uuid = ids.parse_public_id(ids.AGENT, tenant.agent_id)
    events = [type(e).__qualname__ for e in herald.store.repository.event_store.get(agent_uuid)]  # type: ignore[attr-defined]
    assert events == ["Agent.Created", "Agent.ResponderSet", "Agent.ResponderSet"]
    assert herald.store.get(Agent, agent_uuid, "agent").responder_kind == "openai"  # type: ignore[arg-type]


def test_bad_responder_settings_are_refused_with_every_field_and_value(
    client: TestClient,  # type: ignore[type-arg]
    tenant: Tenant,
    herald: Herald,
) -> None:
    url = f"/v1/agents/{tenant.agent_id}/responder"
    agent_uuid = ids.parse_public_id(ids.AGENT, tenant.agent_id)
    version = herald.store.repository.get(agent_uuid).version  # type: ignore[arg-type]

    def refused(body: object) -> list[tuple[str, object, str]]:
        answer = client.put(url, json=body, headers=tenant.headers)
        assert answer.status_code == 422, answer.text
        return [(d["field"], d["value"], d["code"]) for d in answer.json()["error"]["details"]]

    assert refused({"kind": "gpt", "url": "ftp://x"}) == [
        ("kind", "gpt", "unknown_responder"),
        ("url", "ftp://x", "invalid_url"),
    ]
    assert refused({"kind": "webhook"}) == [("url", None, "required")]
    assert refused({"kind": "none", "url": "https://example.com"}) == [
        ("url", "https://example.com", "not_allowed")
    ]
    assert refused({"kind": "webhook", "url": "file:///etc/passwd"})[0][2] == "invalid_url"
    assert refused({"kind": "webhook", "url": "https://a.example/" + "x" * 2000})[0][0] == "url"
    assert refused({"kind": "webhook", "url": "https://a.example/\u0000"})[0][2] in (
        "control_character",
        "invalid",
    )
    assert refused({"kind": 5})[0][0] == "kind"  # not text at all
    assert refused({})[0][0] == "kind"
    assert herald.store.repository.get(agent_uuid).version == version  # type: ignore[arg-type]
    other = Tenant(herald)
    missing = client.put(
        f"/v1/agents/{other.agent_id}/responder", json={"kind": "none"}, headers=tenant.headers
    )
    assert missing.status_code == 404  # another account's agent
    nonsense = client.put(
        "/v1/agents/agent_nope/responder", json={"kind": "none"}, headers=tenant.headers
    )
    assert nonsense.status_code == 404
    assert client.put(url, json={"kind": "none"}).status_code == 401


def test_the_cli_sets_a_responder(herald: Herald, database_url: str) -> None:
    tenant = Tenant(herald)
    account = ids.public_id(ids.ACCOUNT, tenant.account_id)
    env = {"DATABASE_URL": database_url}
    runner = CliRunner()
    from_env.cache_clear()
    try:
        done = runner.invoke(
            main,
            [
                "agents",
                "responder",
                tenant.agent_id,
                "--account",
                account,
                "--kind",
                "webhook",
                "--url",
                "http://127.0.0.1:9/answer",
            ],
            env=env,
        )
        assert done.exit_code == 0, done.output
        assert done.output.strip().splitlines()[-1] == "webhook http://127.0.0.1:9/answer"
        herald.projector.catch_up()
        agent = next(a for a in herald.queries.agents(tenant.account_id))
        assert (agent.responder.kind, agent.responder.url) == (
            "webhook",
            "http://127.0.0.1:9/answer",
        )
        args = ["agents", "responder", tenant.agent_id, "--account", account]
        bad_kind = runner.invoke(main, [*args, "--kind", "gpt"], env=env)
        assert bad_kind.exit_code == 2 and "gpt" in bad_kind.output
        no_url = runner.invoke(main, [*args, "--kind", "webhook"], env=env)
        assert no_url.exit_code == 1 and "url" in no_url.output
        bad_url = runner.invoke(main, [*args, "--kind", "webhook", "--url", "gopher://x"], env=env)
        assert bad_url.exit_code == 1 and "gopher://x" in bad_url.output
    finally:
        from_env.cache_clear()
