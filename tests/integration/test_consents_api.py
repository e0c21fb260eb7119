"""Opt-ins imported through the API and from CSV (all or none, every bad row named), a
phone's consent and history, and the account policy "require an opt-in record"."""

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from application.consents import MAX_IMPORT_ROWS
from domain.account import Account
from interfaces.bootstrap import Herald
from interfaces.cli import main
from interfaces.cli_consents import MAX_FILE_BYTES
from tests.conftest import now
from tests.integration.conftest import Tenant, campaign_body

Client = TestClient  # type: ignore[type-arg]


def opt_in(phone: str, **changes: Any) -> dict[str, Any]:
    return {"phone": phone, "source": "web form", "evidence": f"form-{phone[-4:]}", **changes}


def consent(client: Client, tenant: Tenant, phone: str) -> dict[str, Any]:
    answer = client.get(f"/v1/consents/{phone}", headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def consent_row(herald: Herald, tenant: Tenant, phone: str) -> dict[str, Any] | None:
    with herald.pool.connection() as conn:
        cur = conn.execute(
            "SELECT * FROM herald.consents WHERE account_id = %s AND phone = %s",
            (tenant.account_id, phone),
        )
        row = cur.fetchone()
        return (
            None if row is None else dict(zip([c.name for c in cur.description], row, strict=True))
        )


def import_(client: Client, tenant: Tenant, rows: Any) -> Any:
    return client.post("/v1/consents/import", json={"opt_ins": rows}, headers=tenant.headers)


def test_imported_opt_ins_are_recorded_with_source_evidence_and_time(
    client: Client, tenant: Tenant, herald: Herald
) -> None:
    given = "2026-03-01T09:30:00Z"
    answer = import_(
        client, tenant, [opt_in("+447111200001", opted_in_at=given), opt_in("+447111200002")]
    )
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"imported": 2, "kept_opted_out": []}
    first = consent(client, tenant, "+447111200001")
    assert (first["opted_out"], first["has_opt_in"]) == (False, True)
    assert first["opted_in_at"] == "2026-03-01T09:30:00Z"
    (event,) = first["history"]
    assert (event["event"], event["source"], event["evidence"], event["at"]) == (
        "opted_in",
        "web form",
        "form-0001",
        "2026-03-01T09:30:00Z",
    )
    row = consent_row(herald, tenant, "+447111200002")
    assert row is not None
    assert (row["has_opt_in"], row["opt_in_source"], row["opt_in_evidence"]) == (
        True,
        "web form",
        "form-0002",
    )
    assert (row["opted_out"], row["opted_back_in"], row["opt_ins"]) == (False, False, 1)


def test_a_stop_then_start_reads_as_opted_back_in(
    client: Client, tenant: Tenant, herald: Herald
) -> None:
    phone = "+447111200010"
    herald.consents.opt_in(tenant.account_id, phone, "import", "crm-1")
    herald.consents.opt_out(tenant.account_id, phone, "STOP", "sms", "SM" + "1" * 32)
    row = consent_row(herald, tenant, phone)
    assert row is not None
    assert (row["opted_out"], row["has_opt_in"], row["last_keyword"]) == (True, False, "STOP")
    assert row["opt_out_evidence"] == "SM" + "1" * 32
    herald.consents.opt_in(tenant.account_id, phone, "sms", "SM" + "2" * 32)
    history = consent(client, tenant, phone)["history"]
    assert [e["event"] for e in history] == ["opted_in", "opted_out", "opted_back_in"]
    assert history[1]["keyword"] == "STOP"
    row = consent_row(herald, tenant, phone)
    assert row is not None
    assert (row["opted_out"], row["has_opt_in"], row["opted_back_in"]) == (False, True, True)
    assert (row["opt_outs"], row["opt_ins"], row["opt_in_source"]) == (1, 2, "sms")


def test_an_import_never_opts_back_in_a_phone_that_texted_stop(
    client: Client, tenant: Tenant, herald: Herald
) -> None:
    phone = "+447111200020"
    herald.consents.opt_out(tenant.account_id, phone, "STOP", "sms", "SMstop")
    answer = import_(client, tenant, [opt_in(phone), opt_in("+447111200021")])
    assert answer.json() == {"imported": 1, "kept_opted_out": [phone]}
    assert consent(client, tenant, phone)["opted_out"] is True


def test_a_phone_never_seen_has_no_consent_and_an_empty_history(
    client: Client, tenant: Tenant
) -> None:
    assert consent(client, tenant, "+447111200030") == {
        "phone": "+447111200030",
        "opted_out": False,
        "has_opt_in": False,
        "opted_in_at": None,
        "opted_out_at": None,
        "history": [],
    }


def test_a_consent_of_another_account_is_not_shown(
    client: Client, tenant: Tenant, herald: Herald
) -> None:
    other = Tenant(herald)
    herald.consents.opt_out(other.account_id, "+447111200031", "STOP", "sms", "SMx")
    assert consent(client, tenant, "+447111200031")["history"] == []


def test_a_malformed_phone_in_the_path_is_named(client: Client, tenant: Tenant) -> None:
    answer = client.get("/v1/consents/07111200031", headers=tenant.headers)
    assert answer.status_code == 422
    (detail,) = answer.json()["error"]["details"]
    assert (detail["field"], detail["value"]) == ("phone", "07111200031")


BAD_ROWS: list[tuple[str, dict[str, Any], str, str]] = [
    ("not E.164", opt_in("07111200040"), "phone", "not_e164"),
    ("non-ASCII digits", opt_in("+44711120004٣"), "phone", ""),
    ("a country not allowed", opt_in("+12025550123"), "phone", ""),
    ("empty source", opt_in("+447111200041", source=""), "source", "required"),
    ("blank evidence", opt_in("+447111200042", evidence="   "), "evidence", "required"),
    ("control characters", opt_in("+447111200043", evidence="a\x00b"), "evidence", ""),
    ("evidence too long", opt_in("+447111200044", evidence="e" * 501), "evidence", ""),
    ("source too long", opt_in("+447111200045", source="s" * 65), "source", ""),
    (
        "a time in the future",
        opt_in("+447111200046", opted_in_at="2099-01-01T00:00:00Z"),
        "opted_in_at",
        "invalid_time",
    ),
    (
        "a time without offset",
        opt_in("+447111200047", opted_in_at="2026-03-01T09:30:00"),
        "opted_in_at",
        "invalid_time",
    ),
    (
        "a date only",
        opt_in("+447111200048", opted_in_at="2026-03-01"),
        "opted_in_at",
        "invalid_time",
    ),
    (
        "a month 13",
        opt_in("+447111200049", opted_in_at="2026-13-01T00:00:00Z"),
        "opted_in_at",
        "invalid_time",
    ),
]


@pytest.mark.parametrize(("case", "row", "field", "code"), BAD_ROWS, ids=[c[0] for c in BAD_ROWS])
def test_each_bad_row_is_named_by_index_and_field_and_nothing_is_imported(
    client: Client, tenant: Tenant, case: str, row: dict[str, Any], field: str, code: str
) -> None:
    good = opt_in("+447111200050")
    answer = import_(client, tenant, [good, row])
    assert answer.status_code == 422, answer.text
    details = answer.json()["error"]["details"]
    assert [d["field"] for d in details] == [f"opt_ins[1].{field}"]
    if code:
        assert details[0]["code"].startswith(code)
    assert "value" in details[0]
    assert consent(client, tenant, "+447111200050")["history"] == []


def test_every_bad_row_is_reported_at_once(client: Client, tenant: Tenant) -> None:
    rows = [opt_in("+447111200060"), *(row for _, row, _, _ in BAD_ROWS)]
    answer = import_(client, tenant, rows)
    assert answer.status_code == 422
    fields = {d["field"] for d in answer.json()["error"]["details"]}
    assert fields == {f"opt_ins[{i}].{f}" for i, (_, _, f, _) in enumerate(BAD_ROWS, start=1)}


def test_a_phone_given_twice_is_refused_naming_both_places(client: Client, tenant: Tenant) -> None:
    rows = [opt_in("+447111200070"), opt_in("+447111200071"), opt_in("+447111200070")]
    answer = import_(client, tenant, rows)
    assert answer.status_code == 422
    (detail,) = answer.json()["error"]["details"]
    assert (detail["field"], detail["code"]) == ("opt_ins[2].phone", "duplicate_phone")
    assert "opt_ins[0]" in detail["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"opt_ins": []}, "opt_ins"),
        ({}, "opt_ins"),
        (
            {"opt_ins": [{"phone": 447111200080, "source": "x", "evidence": "y"}]},
            "opt_ins[0].phone",
        ),
        ({"opt_ins": [{"phone": "+447111200081", "source": "x"}]}, "opt_ins[0].evidence"),
        ({"opt_ins": [opt_in("+447111200082", opted_in_at=1700000000)]}, "opt_ins[0].opted_in_at"),
        ({"opt_ins": "+447111200083"}, "opt_ins"),
    ],
)
def test_a_body_of_the_wrong_shape_is_refused_naming_the_field(
    client: Client, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    answer = client.post("/v1/consents/import", json=body, headers=tenant.headers)
    assert answer.status_code == 422, answer.text
    assert field in [d["field"] for d in answer.json()["error"]["details"]]


def test_an_unknown_field_in_a_row_is_refused(client: Client, tenant: Tenant) -> None:
    body = {"opt_ins": [opt_in("+447111200084", consent="yes")]}
    answer = client.post("/v1/consents/import", json=body, headers=tenant.headers)
    assert answer.status_code == 422, answer.text
    (detail,) = answer.json()["error"]["details"]
    assert (detail["field"], detail["value"], detail["code"]) == (
        "opt_ins[0].consent",
        "yes",
        "unknown_field",
    )


@pytest.mark.parametrize("policy", [False, True])
def test_a_recipient_phone_postgresql_cannot_hold_is_refused_not_a_500(
    client: Client, tenant: Tenant, policy: bool
) -> None:
    set_policy(client, tenant, {"require_opt_in": policy})
    recipients = [{"phone": "+44711\u0000", "variables": {}}, {"phone": "+447111200085"}]
    body = campaign_body(tenant, recipients=recipients, on_invalid="skip", schedule_type="draft")
    answer = client.post("/v1/sms/campaigns", json=body, headers=tenant.headers)
    assert answer.status_code == 201, answer.text
    assert answer.json()["skipped"][0]["index"] == 0


def test_more_opt_ins_than_one_import_takes_are_refused(client: Client, tenant: Tenant) -> None:
    rows = [opt_in(f"+4471113{i:05d}") for i in range(MAX_IMPORT_ROWS + 1)]
    answer = import_(client, tenant, rows)
    assert answer.status_code == 422
    (detail,) = answer.json()["error"]["details"]
    assert (detail["field"], detail["code"]) == ("opt_ins", "too_many_opt_ins")


def test_an_import_without_credentials_is_401(client: Client) -> None:
    assert client.post("/v1/consents/import", json={"opt_ins": []}).status_code == 401


# The policy "require an opt-in record" ---------------------------------------------------


def set_policy(client: Client, tenant: Tenant, body: Any) -> Any:
    return client.put("/v1/account/opt_in_policy", json=body, headers=tenant.headers)


def test_the_policy_is_off_by_default_and_recorded_as_an_event(
    client: Client, tenant: Tenant, herald: Herald
) -> None:
    got = client.get("/v1/account/opt_in_policy", headers=tenant.headers)
    assert got.json() == {"require_opt_in": False}
    assert set_policy(client, tenant, {"require_opt_in": True}).json() == {"require_opt_in": True}
    assert herald.store.get(Account, tenant.account_id).opt_in_required is True
    with herald.pool.connection() as conn:
        row = conn.execute(
            "SELECT require_opt_in FROM herald.accounts WHERE account_id = %s",
            (tenant.account_id,),
        ).fetchone()
    assert row == (True,)


@pytest.mark.parametrize(
    "body", [{"require_opt_in": "yes"}, {"require_opt_in": 1}, {}, {"require_opt_in": True, "x": 1}]
)
def test_a_bad_policy_is_refused(client: Client, tenant: Tenant, body: Any) -> None:
    assert set_policy(client, tenant, body).status_code == 422


def test_with_the_policy_on_campaigns_suppress_and_list_phones_without_an_opt_in(
    client: Client, tenant: Tenant, herald: Herald
) -> None:
    with_opt_in, opted_out, without = "+447111200090", "+447111200091", "+447111200092"
    herald.consents.opt_in(tenant.account_id, with_opt_in, "import", "crm")
    herald.consents.opt_out(tenant.account_id, opted_out, "STOP", "sms", "SMstop")
    set_policy(client, tenant, {"require_opt_in": True})
    recipients = [{"phone": p, "variables": {}} for p in (with_opt_in, opted_out, without)]
    body = campaign_body(tenant, recipients=recipients, schedule_type="draft")
    preview = client.post("/v1/sms/campaigns/preview", json=body, headers=tenant.headers).json()
    assert (preview["no_opt_in_count"], preview["no_opt_in"]) == (1, [without])
    assert (preview["suppressed_count"], preview["opted_out"]) == (2, [opted_out])
    created = client.post("/v1/sms/campaigns", json=body, headers=tenant.headers)
    assert created.status_code == 201, created.text
    shown = created.json()
    assert (shown["no_opt_in_count"], shown["no_opt_in"]) == (1, [without])
    assert shown["suppressed_count"] == 2
    assert any("no opt-in record" in w for w in shown["warnings"])
    statuses = {
        r["phone"]: r["status"]
        for r in client.get(
            f"/v1/sms/campaigns/{shown['campaign_id']}", headers=tenant.headers
        ).json()["recipients"]
    }
    assert statuses == {with_opt_in: "pending", opted_out: "suppressed", without: "suppressed"}


def test_with_the_policy_off_only_opted_out_phones_are_suppressed(
    client: Client, tenant: Tenant, herald: Herald
) -> None:
    herald.consents.opt_out(tenant.account_id, "+447111200101", "STOP", "sms", "SMstop")
    recipients = [{"phone": p, "variables": {}} for p in ("+447111200100", "+447111200101")]
    body = campaign_body(tenant, recipients=recipients, schedule_type="draft")
    shown = client.post("/v1/sms/campaigns", json=body, headers=tenant.headers).json()
    assert (shown["no_opt_in_count"], shown["no_opt_in"], shown["suppressed_count"]) == (0, [], 1)


def sms(tenant: Tenant, to: str) -> dict[str, object]:
    return {
        "agent_id": tenant.agent_id,
        "to": to,
        "from_number": tenant.from_number,
        "message": "Hi",
    }


def test_with_the_policy_on_a_single_send_needs_an_opt_in_record(
    client: Client, tenant: Tenant, herald: Herald
) -> None:
    set_policy(client, tenant, {"require_opt_in": True})
    refused = client.post("/v1/sms", json=sms(tenant, "+447111200110"), headers=tenant.headers)
    assert refused.status_code == 422
    (detail,) = refused.json()["error"]["details"]
    assert (detail["field"], detail["value"], detail["code"]) == (
        "to",
        "+447111200110",
        "recipient_without_opt_in",
    )
    herald.consents.opt_in(tenant.account_id, "+447111200110", "import", "crm")
    sent = client.post("/v1/sms", json=sms(tenant, "+447111200110"), headers=tenant.headers)
    assert sent.status_code == 201, sent.text
    set_policy(client, tenant, {"require_opt_in": False})
    anyone = client.post("/v1/sms", json=sms(tenant, "+447111200111"), headers=tenant.headers)
    assert anyone.status_code == 201


# The CLI ---------------------------------------------------------------------------------


def cli(database_url: str, *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env={"DATABASE_URL": database_url})


def test_csv_opt_ins_are_imported(
    tmp_path: Path, database_url: str, client: Client, tenant: Tenant
) -> None:
    file = tmp_path / "opt_ins.csv"
    file.write_text(
        "Phone,Source,Evidence,Opted_In_At\n"
        "+447111200120,paper form,scan 1,2026-02-01T10:00:00+00:00\n"
        '+447111200121,"web, checkout","order 7, box ticked",\n'
        "\n"
    )
    done = cli(database_url, "consents", "import", str(file), "--account", str(tenant.account_id))
    assert done.exit_code == 0, done.output
    assert done.output.strip().splitlines()[-1] == "imported 2 opt-ins"
    second = consent(client, tenant, "+447111200121")
    assert second["history"][0]["source"] == "web, checkout"
    assert second["history"][0]["evidence"] == "order 7, box ticked"


def test_every_bad_csv_line_is_reported_by_line_and_nothing_is_imported(
    tmp_path: Path, database_url: str, client: Client, tenant: Tenant
) -> None:
    future = (now() + timedelta(days=1)).isoformat()
    file = tmp_path / "bad.csv"
    file.write_text(
        "phone,source,evidence,opted_in_at\n"
        "+447111200130,form,ok,\n"  # line 2: good
        "07111200131,form,ok,\n"  # line 3: not E.164
        "+447111200132,,ok,\n"  # line 4: no source
        f"+447111200133,form,ok,{future}\n"  # line 5: in the future
        "+447111200134,form\n"  # line 6: too few fields
        "+447111200130,form,again,\n"  # line 7: twice
    )
    done = cli(database_url, "consents", "import", str(file), "--account", str(tenant.account_id))
    assert done.exit_code == 1
    out = done.output
    for expected in (
        "line 3: phone",
        "line 4: source",
        "line 5: opted_in_at",
        "line 6:",
        "line 7: phone",
        "nothing imported",
    ):
        assert expected in out, out
    assert consent(client, tenant, "+447111200130")["history"] == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"phone,source\n+447111200140,form\n", "evidence column"),
        (b"phone,source,evidence,consent\n+447111200141,a,b,c\n", "consent"),
        (b"phone,phone,source,evidence\n", "twice"),
        (b"phone,source,evidence\n+447111200142,caf\xe9,b\n", "UTF-8"),
        (b'phone,source,evidence\n+447111200143,"unclosed,b\n', ""),
    ],
    ids=["empty", "missing column", "unknown column", "duplicate column", "not utf-8", "quote"],
)
def test_a_malformed_csv_file_is_refused_saying_why(
    tmp_path: Path, database_url: str, tenant: Tenant, content: bytes, expected: str
) -> None:
    file = tmp_path / "bad.csv"
    file.write_bytes(content)
    done = cli(database_url, "consents", "import", str(file), "--account", str(tenant.account_id))
    assert done.exit_code == 1, done.output
    assert expected in done.output


def test_the_policy_is_set_from_the_terminal(
    database_url: str, client: Client, tenant: Tenant
) -> None:
    account = str(tenant.account_id)
    done = cli(database_url, "accounts", "require-opt-in", account, "--on")
    assert done.exit_code == 0, done.output
    assert client.get("/v1/account/opt_in_policy", headers=tenant.headers).json() == {
        "require_opt_in": True
    }
    assert cli(database_url, "accounts", "require-opt-in", account, "--off").exit_code == 0
    assert cli(database_url, "accounts", "require-opt-in", account).exit_code == 2
    shown = cli(database_url, "consents", "show", "+447111200150", "--account", account)
    assert shown.exit_code == 0 and "no record" in shown.output


def test_the_largest_import_is_recorded_in_one_go(
    client: Client, tenant: Tenant, figure: Callable[[str], None]
) -> None:
    rows = [opt_in(f"+4471114{i:05d}") for i in range(MAX_IMPORT_ROWS)]
    started = time.perf_counter()
    answer = import_(client, tenant, rows)
    took = time.perf_counter() - started
    assert answer.status_code == 201, answer.text
    assert answer.json()["imported"] == MAX_IMPORT_ROWS
    assert consent(client, tenant, f"+4471114{MAX_IMPORT_ROWS - 1:05d}")["has_opt_in"] is True
    figure(
        f"importing {MAX_IMPORT_ROWS} opt-ins ({2 * MAX_IMPORT_ROWS} events, one transaction): {took:.1f} s"
    )


def test_a_csv_file_too_large_or_with_too_many_lines_is_refused(
    tmp_path: Path, database_url: str, tenant: Tenant
) -> None:
    account = str(tenant.account_id)
    huge = tmp_path / "huge.csv"
    huge.write_bytes(b"phone,source,evidence\n" + b"x" * MAX_FILE_BYTES)
    done = cli(database_url, "consents", "import", str(huge), "--account", account)
    assert done.exit_code == 1 and "too_large" not in done.output and "at most" in done.output
    many = tmp_path / "many.csv"
    lines = [f"+4471115{i:05d},form,row {i}" for i in range(MAX_IMPORT_ROWS + 1)]
    many.write_text("phone,source,evidence\n" + "\n".join(lines) + "\n")
    done = cli(database_url, "consents", "import", str(many), "--account", account)
    assert done.exit_code == 1, done.output
    assert f"at most {MAX_IMPORT_ROWS} per import" in done.output
