"""Dispatching a large campaign over 200 numbers x 10 mps to the simulator answering at once.

    .venv/bin/python -m bench.dispatch [RECIPIENTS]

Prints messages per second submitted (as the simulator recorded them), as a fraction of
the pacing limit (200 x 10 = 2,000/s) measured in the same run, and the dispatcher
process's CPU time per message.
"""

import os
import subprocess
import sys
import time

import httpx
import psutil

from application.campaigns import CreateCampaign, RecipientIn
from application.directory import AddNumber, CreateAgent
from bench.common import HERALD, fresh_database
from domain import ids
from interfaces.bootstrap import bootstrap
from interfaces.settings import Settings
from tests.e2e.conftest import free_port, wait_healthy

NUMBERS, MPS = 200, 10


def main(count: int) -> None:
    database_url = fresh_database("herald_bench_dispatch")
    sim_port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TWILIO_API_BASE_URL": f"http://127.0.0.1:{sim_port}",
        "HERALD_PUBLIC_URL": "http://127.0.0.1:9",
    }  # callbacks are off in this bench
    simulator = subprocess.Popen([HERALD, "simulator", "--port", str(sim_port)], env=env)
    sim_url = f"http://127.0.0.1:{sim_port}"
    wait_healthy(sim_url, simulator, path="/_sim/health")
    httpx.post(f"{sim_url}/_sim/config", json={"callbacks_enabled": False}).raise_for_status()

    herald = bootstrap(Settings(database_url=database_url))
    account = herald.directory.create_account("bench")
    agent = ids.public_id(ids.AGENT, herald.directory.create_agent(account, CreateAgent("a", "")))
    pool = [f"+4474465{n:05d}" for n in range(NUMBERS)]
    for number in pool:
        herald.directory.add_number(account, AddNumber(number, agent, MPS))
    phones = [f"+4471{i:08d}" for i in range(count)]
    herald.campaigns.create(
        account,
        CreateCampaign(
            agent_id=agent,
            name="bench",
            message_template="Hi {{n}}, a one-segment message.",
            recipients=[RecipientIn(p, {"n": i}) for i, p in enumerate(phones)],
            from_numbers=pool,
        ),
        source="api",
    )

    dispatcher = subprocess.Popen([HERALD, "dispatch"], env=env)
    cpu = psutil.Process(dispatcher.pid)
    deadline = time.monotonic() + count / (NUMBERS * MPS) * 4 + 60
    sent = 0
    while time.monotonic() < deadline:
        time.sleep(1)
        sent = httpx.get(f"{sim_url}/_sim/health").status_code and len(
            httpx.get(f"{sim_url}/_sim/messages", timeout=60).json()["messages"]
        )
        if sent >= count:
            break
    times = cpu.cpu_times()
    messages = httpx.get(f"{sim_url}/_sim/messages", timeout=60).json()["messages"]
    dispatcher.terminate()
    dispatcher.wait(timeout=30)
    simulator.terminate()
    from datetime import datetime

    created = sorted(datetime.fromisoformat(m["date_created"]).timestamp() for m in messages)
    span = created[-1] - created[0]
    rate = (len(created) - 1) / span
    limit = NUMBERS * MPS
    # The steady part: from the 10th to the 90th percentile of submissions.
    lo, hi = created[len(created) // 10], created[len(created) * 9 // 10]
    steady = (len(created) * 8 // 10) / (hi - lo)
    print(f"recipients {count}, submitted {len(messages)}, over {span:.1f} s")
    print(
        f"pacing limit {limit}/s; overall {rate:.0f} messages/s ({rate / limit:.1%} of the limit);"
        f" steady (p10-p90) {steady:.0f}/s ({steady / limit:.1%})"
    )
    print(
        f"dispatcher CPU {times.user + times.system:.1f} s:"
        f" {(times.user + times.system) / len(messages) * 1e6:.0f} µs per message"
    )
    herald.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40_000)
