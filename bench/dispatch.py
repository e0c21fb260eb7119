"""Dispatching a large campaign over 200 numbers x 10 mps to the simulator.

    .venv/bin/python -m bench.dispatch [RECIPIENTS] [--latency SECONDS] [--starve PROCESSES]
                                       [--dispatchers N]

Prints messages per second submitted (as the simulator recorded them), as a fraction of
the pacing limit (200 x 10 = 2,000/s), the dispatchers' CPU time per message, and the
messages each recipient got: it exits 1 on any duplicate or loss. `--latency` makes the
simulator answer each create that late; `--starve` runs that many busy processes beside
the dispatcher, to starve it of CPU.
"""

import argparse
import multiprocessing
import os
import subprocess
import sys
import time
from datetime import datetime

import httpx
import psutil

from application.campaign_checks import CreateCampaign, RecipientIn
from application.directory import AddNumber, CreateAgent
from bench.common import HERALD, exactly_once, fresh_database
from domain import ids
from harness.processes import free_port, wait_healthy
from interfaces.bootstrap import bootstrap
from interfaces.settings import Settings

NUMBERS, MPS = 200, 10


def _busy() -> None:
    while True:
        pass


def main(count: int, latency: float, starve: int, dispatchers: int) -> int:
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
    httpx.post(
        f"{sim_url}/_sim/config", json={"callbacks_enabled": False, "latency": latency}
    ).raise_for_status()

    herald = bootstrap(Settings(database_url=database_url))
    account = herald.directory.create_account("bench")
    herald.directory.set_quiet_hours(account, None)  # a figure at any hour
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

    hogs = [multiprocessing.Process(target=_busy, daemon=True) for _ in range(starve)]
    for hog in hogs:
        hog.start()
    processes = [subprocess.Popen([HERALD, "dispatch"], env=env) for _ in range(dispatchers)]
    cpu = [psutil.Process(p.pid) for p in processes]
    deadline = time.monotonic() + count / (NUMBERS * MPS) * 6 + 60 + latency * 20
    while time.monotonic() < deadline:
        time.sleep(1)
        done = httpx.get(f"{sim_url}/_sim/messages", timeout=60).json()["messages"]
        if len(done) >= count:
            break
    time.sleep(3)  # anything submitted twice would show up by now
    seconds = sum(c.cpu_times().user + c.cpu_times().system for c in cpu)
    messages = httpx.get(f"{sim_url}/_sim/messages", timeout=60).json()["messages"]
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)
    for hog in hogs:
        hog.terminate()
    simulator.terminate()

    created = sorted(datetime.fromisoformat(m["date_created"]).timestamp() for m in messages)
    span = created[-1] - created[0]
    rate = (len(created) - 1) / span
    limit = NUMBERS * MPS
    # The steady part: from the 10th to the 90th percentile of submissions.
    lo, hi = created[len(created) // 10], created[len(created) * 9 // 10]
    steady = (len(created) * 8 // 10) / (hi - lo)
    print(
        f"recipients {count}, submitted {len(messages)}, over {span:.1f} s"
        f" (latency {latency} s, {starve} busy processes, {dispatchers} dispatchers)"
    )
    print(
        f"pacing limit {limit}/s; overall {rate:.0f} messages/s ({rate / limit:.1%} of the limit);"
        f" steady (p10-p90) {steady:.0f}/s ({steady / limit:.1%})"
    )
    print(f"dispatcher CPU {seconds:.1f} s: {seconds / len(messages) * 1e6:.0f} µs per message")
    herald.close()
    return 0 if exactly_once(phones, messages) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("recipients", type=int, nargs="?", default=40_000)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--starve", type=int, default=0)
    parser.add_argument("--dispatchers", type=int, default=1)
    args = parser.parse_args()
    sys.exit(main(args.recipients, args.latency, args.starve, args.dispatchers))
