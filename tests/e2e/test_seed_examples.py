"""The seed pages' examples, against `herald serve`, with ids made by the `herald` CLI."""

import httpx

from harness.processes import herald_cli


def test_seed_examples_end_to_end(api_url: str, database_url: str) -> None:
    account = herald_cli(database_url, "accounts", "create", "Acme Dental")
    assert account.startswith("acct_")
    key = herald_cli(database_url, "keys", "create", "--account", account)
    assert key.startswith("key_") and ":" in key
    agent = herald_cli(
        database_url,
        "agents",
        "create",
        "--account",
        account,
        "--name",
        "Reception",
        "--system-prompt",
        "You are the receptionist at Acme Dental.",
    )
    assert agent.startswith("agent_")
    assert (
        herald_cli(
            database_url,
            "numbers",
            "add",
            "--account",
            account,
            "--agent",
            agent,
            "--phone",
            "+447446466847",
        )
        == "+447446466847"
    )

    http = httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {key}"})
    created = http.post(
        "/v1/sms/campaigns",
        json={
            "agent_id": agent,
            "from_number": "+447446466847",
            "name": "March promotion",
            "message_template": "Hi {{first_name}}, Acme Dental offering 20% off cleanings this month. Reply YES to book.",
            "recipients": [
                {"phone": "+447111000001", "variables": {"first_name": "Sarah"}},
                {"phone": "+447111000002", "variables": {"first_name": "James"}},
            ],
            "schedule_type": "now",
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert body["campaign_id"].startswith("smsc_")
    assert {
        k: body[k]
        for k in (
            "status",
            "total_count",
            "delivered_count",
            "failed_count",
            "pending_count",
            "source",
        )
    } == {
        "status": "running",
        "total_count": 2,
        "delivered_count": 0,
        "failed_count": 0,
        "pending_count": 2,
        "source": "api",
    }

    tracked = http.get(f"/v1/sms/campaigns/{body['campaign_id']}").json()
    assert tracked["name"] == "March promotion"
    assert [r["variables"] for r in tracked["recipients"]] == [
        {"first_name": "Sarah"},
        {"first_name": "James"},
    ]

    listed = http.get("/v1/sms/campaigns").json()["campaigns"]
    assert [c["campaign_id"] for c in listed] == [body["campaign_id"]]

    sms = http.post(
        "/v1/sms",
        json={
            "agent_id": agent,
            "to": "+447386172392",
            "from_number": "+447446466847",
            "message": "Reminder: your appointment is tomorrow at 2pm. Reply YES to confirm or NO to reschedule.",
        },
    )
    assert sms.status_code == 201
    assert {"message_id", "status", "to", "from_number"} <= sms.json().keys()
    assert http.get(f"/v1/sms/{sms.json()['message_id']}").json()["to"] == "+447386172392"

    assert http.delete(f"/v1/sms/campaigns/{body['campaign_id']}").json()["status"] == "cancelled"
    assert http.delete(f"/v1/sms/campaigns/{body['campaign_id']}").status_code == 409

    own_sid = "AC" + "2" * 32
    assert (
        herald_cli(database_url, "accounts", "twilio", account, "--sid", own_sid, "--token", "t0k")
        == own_sid
    )

    herald_cli(database_url, "keys", "revoke", "--account", account, key)
    assert http.get("/v1/sms/campaigns").status_code == 401
