"""Fuzzing Herald's API with schemathesis, every check on: a fresh database with a tenant,
`herald serve` on it, and schemathesis's own runner against /schema/openapi.json.

The suite runs it briefly (tests/e2e/test_api_fuzzing.py); the long run of docs/fuzzing.md is

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m tests.e2e.fuzzing 2700

Schemathesis is told the tenant's ids (its agent, sender number, a draft and a running
campaign, a message), so that half of what it generates reaches past "not found" into
the use cases: campaigns are created, launched, paused and cancelled with fuzzed input.
"""

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.processes import cli_tenant, serving
from interfaces.database import create_database, drop_database, embedded_url

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
CONFIG = Path(__file__).with_name("schemathesis.toml")
FROM_NUMBER = "+447446466847"


@dataclass(frozen=True)
class FuzzTenant:
    key: str
    agent_id: str
    campaign_ids: list[str]
    message_id: str


def seed_tenant(database_url: str, api_url: str) -> FuzzTenant:
    made = cli_tenant(database_url, "fuzz", [FROM_NUMBER])
    key, agent = made.key, made.agent
    http = httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    campaign = {
        "agent_id": agent,
        "from_number": FROM_NUMBER,
        "name": "fuzz",
        "message_template": "Hi {{name}}",
        "recipients": [{"phone": "+447111000001", "variables": {"name": "Jo"}}],
    }
    campaigns = [
        http.post("/v1/sms/campaigns", json={**campaign, "schedule_type": kind}).json()
        for kind in ("draft", "now")
    ]
    sent = http.post(
        "/v1/sms",
        json={"agent_id": agent, "to": "+447111000002", "from_number": FROM_NUMBER, "message": "x"},
    ).json()
    return FuzzTenant(key, agent, [c["campaign_id"] for c in campaigns], sent["message_id"])


def config_for(tenant: FuzzTenant) -> str:
    """tests/e2e/schemathesis.toml, plus the tenant's ids for the fuzzer to use."""

    def values(*items: str) -> str:
        return "[" + ", ".join(f'"{item}"' for item in items) + "]"

    bindings = {
        "body.agent_id": "agents",
        "body.from_number": "numbers",
        "path.campaign_id": "campaigns",
        "path.message_id": "messages",
        "path.agent_id": "agents",
    }
    lines = [CONFIG.read_text(), ""]
    lines += [
        f"[dictionaries.agents]\nvalues = {values(tenant.agent_id)}",
        f"[dictionaries.numbers]\nvalues = {values(FROM_NUMBER)}",
        f"[dictionaries.campaigns]\nvalues = {values(*tenant.campaign_ids)}",
        f"[dictionaries.messages]\nvalues = {values(tenant.message_id)}",
        "[parameters]",
    ]
    lines += [
        f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}'
        for key, name in bindings.items()
    ]
    return "\n".join(lines) + "\n"


@contextmanager
def fuzz_target(server_url: str, name: str) -> Iterator[tuple[str, FuzzTenant]]:
    """`herald serve` on a fresh database `name`, with a tenant; dropped afterwards."""
    database_url = create_database(server_url, name)
    try:
        # POST /v1/sms answers at once: no dispatcher runs, and the fuzzer need not wait.
        with serving(database_url, HERALD_SMS_WAIT_SECONDS="0") as url:
            yield url, seed_tenant(database_url, url)
    finally:
        drop_database(server_url, name)


def run_schemathesis(
    url: str, tenant: FuzzTenant, max_examples: int, seed: int | None, *, capture: bool
) -> subprocess.CompletedProcess[str]:
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as config:
        config.write(config_for(tenant))
    command = [
        SCHEMATHESIS,
        "--config-file",
        config.name,
        "run",
        f"{url}/schema/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {tenant.key}",
        "--max-examples",
        str(max_examples),
        "--workers",
        "1",  # ast.parse in hypothesis is not thread-safe on Python 3.11
        "--no-color",
    ]
    if seed is not None:
        command += ["--seed", str(seed)]
    try:
        return subprocess.run(command, capture_output=capture, text=True, check=False)
    finally:
        os.unlink(config.name)


def main() -> None:
    max_examples = int(sys.argv[1]) if len(sys.argv) > 1 else 2700
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else None
    server = os.environ.get("DATABASE_URL") or embedded_url(
        Path(tempfile.mkdtemp(prefix="herald-fuzz-"))
    )
    with fuzz_target(server, f"herald_fuzz_{os.getpid()}") as (url, tenant):
        done = run_schemathesis(url, tenant, max_examples, seed, capture=False)
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
