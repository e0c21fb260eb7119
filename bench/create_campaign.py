"""Creating a 100,000-recipient campaign over HTTP, against raw inserts of the same rows.

    .venv/bin/python -m bench.create_campaign [RECIPIENTS]

Prints: time to 201, time until a GET shows every recipient, and both as a ratio of raw
PostgreSQL inserts (executemany and COPY) of the same rows in the same run; then p99 of
GET campaign (small and large) and of the campaign list, to show they do not grow.
"""

import json
import sys
import uuid

import httpx
import psycopg

from bench.common import fresh_database, p99, tenant, timed
from harness.processes import serving


def raw_inserts(database_url: str, rows: list[tuple[object, ...]]) -> tuple[float, float]:
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "CREATE TABLE raw_recipients (campaign_id uuid, idx int, phone text,"
            " variables jsonb, status text)"
        )
        conn.commit()

        def executemany() -> None:
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany("INSERT INTO raw_recipients VALUES (%s, %s, %s, %s, %s)", rows)

        def copy() -> None:
            with (
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy("COPY raw_recipients FROM STDIN") as c,
            ):
                for row in rows:
                    c.write_row(row)

        return timed(executemany), timed(copy)


def main(count: int) -> None:
    database_url = fresh_database("herald_bench_create")
    phones = [f"+4471{i:08d}" for i in range(count)]
    variables = [{"first_name": f"Name{i}"} for i in range(count)]
    campaign = uuid.uuid4()
    rows = [
        (campaign, i, p, json.dumps(v), "pending")
        for i, (p, v) in enumerate(zip(phones, variables, strict=True))
    ]
    executemany_s, copy_s = raw_inserts(database_url, rows)
    with serving(database_url) as url:
        key, agent, number = tenant(database_url)
        http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120)
        small = http.post("/v1/sms/campaigns", json=body(agent, number, phones[:10], variables))
        small_id = small.json()["campaign_id"]
        payload = json.dumps(body(agent, number, phones, variables)).encode()
        created: dict[str, object] = {}

        def create() -> None:
            response = http.post(
                "/v1/sms/campaigns", content=payload, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 201, response.text[:500]
            created.update(response.json())

        create_s = timed(create)
        campaign_id = created["campaign_id"]

        def visible() -> None:
            shown = http.get(f"/v1/sms/campaigns/{campaign_id}").json()
            assert shown["total_count"] == count and shown["pending_count"] == count

        visible_s = create_s + timed(visible)
        latency = {
            "GET 10-recipient campaign": sample(http, f"/v1/sms/campaigns/{small_id}"),
            f"GET {count}-recipient campaign": sample(http, f"/v1/sms/campaigns/{campaign_id}"),
            "GET campaign list": sample(http, "/v1/sms/campaigns"),
        }
    print(f"recipients: {count}, request body {len(payload) / 1e6:.1f} MB")
    print(f"raw executemany: {executemany_s:.2f} s   raw COPY: {copy_s:.2f} s")
    print(
        f"POST -> 201: {create_s:.2f} s  ({create_s / executemany_s:.2f}x executemany,"
        f" {create_s / copy_s:.1f}x COPY)"
    )
    print(
        f"POST -> GET shows all: {visible_s:.2f} s  ({visible_s / executemany_s:.2f}x executemany,"
        f" {visible_s / copy_s:.1f}x COPY)"
    )
    for name, samples in latency.items():
        print(f"{name}: p99 {p99(samples) * 1000:.1f} ms over {len(samples)} requests")


def sample(http: httpx.Client, path: str, n: int = 500) -> list[float]:
    return [timed(lambda: http.get(path).raise_for_status()) for _ in range(n)]


def body(agent: str, number: str, phones: list[str], variables: list[dict[str, str]]) -> dict:
    return {
        "agent_id": agent,
        "from_number": number,
        "name": "bench",
        "message_template": "Hi {{first_name}}, Acme Dental offering 20% off cleanings.",
        "recipients": [
            {"phone": p, "variables": v} for p, v in zip(phones, variables, strict=False)
        ],
        "schedule_type": "now",
    }


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
