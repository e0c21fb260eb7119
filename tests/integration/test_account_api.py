"""GET and PATCH /v1/account: the calling account's quiet hours, recorded as events."""

from litestar.testing import TestClient

from domain.account import Account
from interfaces.bootstrap import Herald
from tests.integration.conftest import Tenant


def test_a_new_account_has_the_default_window_recorded(herald: Herald, client: TestClient) -> None:
    account_id = herald.directory.create_account("fresh")
    key = herald.directory.create_key(account_id)
    body = client.get("/v1/account", headers={"Authorization": f"Bearer {key}"}).json()
    assert body["quiet_hours"] == {"start": "21:00", "end": "09:00"}
    events = herald.store.repository.event_store.get(account_id)  # type: ignore[attr-defined]
    recorded = [type(e).__qualname__ for e in events]
    assert recorded == ["Account.Created", "Account.QuietHoursSet"]


def test_quiet_hours_are_set_turned_off_and_recorded_in_order(
    herald: Herald, client: TestClient
) -> None:
    tenant = Tenant(herald, quiet_hours=("21:00", "09:00"))
    changed = client.patch(
        "/v1/account",
        json={"quiet_hours": {"start": "20:30", "end": "08:00"}},
        headers=tenant.headers,
    )
    assert changed.status_code == 200
    assert changed.json()["quiet_hours"] == {"start": "20:30", "end": "08:00"}
    off = client.patch("/v1/account", json={"quiet_hours": None}, headers=tenant.headers)
    assert off.status_code == 200 and off.json()["quiet_hours"] is None
    assert client.get("/v1/account", headers=tenant.headers).json()["quiet_hours"] is None
    account = herald.store.repository.get(tenant.account_id)
    assert isinstance(account, Account) and account.quiet_hours is None
    windows = [
        (e.start, e.end)  # type: ignore[attr-defined]
        for e in herald.store.repository.event_store.get(tenant.account_id)  # type: ignore[attr-defined]
        if type(e).__qualname__ == "Account.QuietHoursSet"
    ]
    assert windows == [("21:00", "09:00"), ("21:00", "09:00"), ("20:30", "08:00"), (None, None)]


def test_bad_windows_name_every_field_and_change_nothing(
    herald: Herald, client: TestClient, tenant: Tenant
) -> None:
    version = herald.store.repository.get(tenant.account_id).version
    response = client.patch(
        "/v1/account",
        json={"quiet_hours": {"start": "25:00", "end": "9am"}},
        headers=tenant.headers,
    )
    assert response.status_code == 422
    assert [(d["field"], d["value"], d["code"]) for d in response.json()["error"]["details"]] == [
        ("quiet_hours.start", "25:00", "invalid_time"),
        ("quiet_hours.end", "9am", "invalid_time"),
    ]
    same = client.patch(
        "/v1/account",
        json={"quiet_hours": {"start": "21:00", "end": "21:00"}},
        headers=tenant.headers,
    )
    assert same.status_code == 422
    assert same.json()["error"]["details"][0]["code"] == "empty_window"
    missing = client.patch("/v1/account", json={}, headers=tenant.headers)
    assert missing.status_code == 422
    assert missing.json()["error"]["details"][0]["field"] == "quiet_hours"
    assert herald.store.repository.get(tenant.account_id).version == version


def test_the_account_endpoint_needs_a_key(client: TestClient) -> None:
    assert client.get("/v1/account").status_code == 401
    assert client.patch("/v1/account", json={"quiet_hours": None}).status_code == 401


def test_the_cli_sets_and_clears_quiet_hours(herald: Herald, database_url: str) -> None:
    from click.testing import CliRunner

    from domain import ids
    from interfaces.cli import main

    tenant = Tenant(herald)
    account = ids.public_id(ids.ACCOUNT, tenant.account_id)
    env = {"DATABASE_URL": database_url}
    runner = CliRunner()
    from interfaces.settings import from_env

    from_env.cache_clear()
    done = runner.invoke(
        main, ["accounts", "quiet-hours", account, "--start", "22:00", "--end", "08:00"], env=env
    )
    assert done.exit_code == 0, done.output
    assert done.output.strip().splitlines()[-1] == "quiet hours 22:00-08:00"
    herald.projector.catch_up()
    assert herald.queries.account(tenant.account_id).quiet_hours.start == "22:00"  # type: ignore[union-attr]
    assert (
        runner.invoke(main, ["accounts", "quiet-hours", account, "--off"], env=env).exit_code == 0
    )
    herald.projector.catch_up()
    assert herald.queries.account(tenant.account_id).quiet_hours is None  # type: ignore[union-attr]
    bad = runner.invoke(main, ["accounts", "quiet-hours", account, "--start", "22:00"], env=env)
    assert bad.exit_code == 2 and "give --start and --end, or --off" in bad.output
    wrong = runner.invoke(
        main, ["accounts", "quiet-hours", account, "--start", "7", "--end", "8"], env=env
    )
    assert wrong.exit_code == 1 and "quiet_hours.start" in wrong.output
    from_env.cache_clear()
