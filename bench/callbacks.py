"""Signed status callbacks through the API: per second, p99 latency, and read-model lag.

    .venv/bin/python -m bench.callbacks [MESSAGES]

A campaign is dispatched to the simulator (its own callbacks off) so that MESSAGES
messages have SIDs; then a load generator posts a signed `sent` and a signed
`delivered` callback for each, 64 at a time. Baseline in the same run: the same load
generator against a bare Litestar handler (GET /healthz) of the same server. Lag: a
sampler polls the read model for the delivered status of every 50th message after its
callback was sent.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlencode

import httpx
import psutil
import psycopg
from twilio.request_validator import RequestValidator

from application.campaign_checks import CreateCampaign, RecipientIn
from application.directory import AddNumber, CreateAgent
from bench.common import HERALD, fresh_database, p99
from domain import ids
from harness.processes import free_port, wait_healthy
from interfaces.bootstrap import bootstrap
from interfaces.settings import SIMULATOR_ACCOUNT_SID, SIMULATOR_AUTH_TOKEN, Settings

CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
SECONDS = 10


def wrk(url: str, script: str | None) -> tuple[float, float]:
    """Requests per second and p99 latency (ms) from wrk: CONNECTIONS connections, one thread."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", url]
    if script:
        command[1:1] = ["-s", script]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    p99_ms = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    if "Non-2xx" in out:
        raise RuntimeError(out)
    return rate, p99_ms


def thread_cpu(process: psutil.Process) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each thread of a process."""
    return {t.id: t.user_time + t.system_time for t in process.threads()}


def lua_script(requests: list[tuple[str, str, str]]) -> str:
    """A wrk script that posts the signed callbacks in order (then again: duplicates)."""
    entries = ",\n".join(
        f"{{{json.dumps(p)}, {json.dumps(b)}, {json.dumps(s)}}}" for p, b, s in requests
    )
    path = tempfile.mktemp(suffix=".lua")
    with open(path, "w") as f:
        f.write(f"""requests = {{
{entries}
}}
i = 0
request = function()
  i = i % #requests + 1
  local r = requests[i]
  return wrk.format("POST", r[1], {{["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = r[3]}}, r[2])
end
""")
    return path


class LagSampler:
    """How long each recorded log position takes to reach the read models."""

    def __init__(self, database_url: str) -> None:
        self.conn = psycopg.connect(database_url, autocommit=True)
        self.seen: list[tuple[float, int]] = []  # (when first seen, position)
        self.lags: list[float] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.done.is_set():
            now = time.monotonic()
            recorded, projected = self.conn.execute(
                "SELECT (SELECT coalesce(max(notification_id), 0) FROM herald_events),"
                " (SELECT position FROM herald.projection_tracking WHERE name = 'read_models')"
            ).fetchone()  # type: ignore[misc]
            if not self.seen or recorded > self.seen[-1][1]:
                self.seen.append((now, recorded))
            while self.seen and self.seen[0][1] <= projected:
                self.lags.append(now - self.seen.pop(0)[0])
            time.sleep(0.01)

    def stop(self) -> list[float]:
        time.sleep(1)  # let the last positions arrive
        self.done.set()
        self.thread.join()
        return self.lags


def main(count: int) -> None:
    database_url = fresh_database("herald_bench_callbacks")
    sim_port, api_port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "HERALD_PUBLIC_URL": api_url,
        "TWILIO_API_BASE_URL": f"http://127.0.0.1:{sim_port}",
    }
    simulator = subprocess.Popen([HERALD, "simulator", "--port", str(sim_port)], env=env)
    wait_healthy(f"http://127.0.0.1:{sim_port}", simulator, path="/_sim/health")
    httpx.post(f"http://127.0.0.1:{sim_port}/_sim/config", json={"callbacks_enabled": False})
    api = subprocess.Popen([HERALD, "serve", "--port", str(api_port)], env=env)
    wait_healthy(api_url, api)

    herald = bootstrap(Settings(database_url=database_url))
    account = herald.directory.create_account("bench")
    agent = ids.public_id(ids.AGENT, herald.directory.create_agent(account, CreateAgent("a", "")))
    pool = [f"+4474465{n:05d}" for n in range(100)]
    for number in pool:
        herald.directory.add_number(account, AddNumber(number, agent, 50))
    herald.campaigns.create(
        account,
        CreateCampaign(
            agent_id=agent,
            name="bench",
            message_template="Hi {{n}}",
            recipients=[RecipientIn(f"+4471{i:08d}", {"n": i}) for i in range(count)],
            from_numbers=pool,
        ),
        source="api",
    )
    dispatcher = subprocess.Popen([HERALD, "dispatch"], env=env)
    with psycopg.connect(database_url, autocommit=True) as conn:
        while (
            conn.execute(
                "SELECT count(*) FROM herald.messages WHERE twilio_sid IS NOT NULL"
            ).fetchone()[0]
            < count
        ):
            time.sleep(0.5)
        dispatcher.terminate()
        rows = conn.execute(
            "SELECT message_id, twilio_sid, from_number, to_phone FROM herald.messages"
        ).fetchall()

    validator = RequestValidator(SIMULATOR_AUTH_TOKEN)
    requests = []
    for status in ("sent", "delivered"):
        for message_id, sid, from_number, to in rows:
            path = f"/webhooks/twilio/status/{ids.public_id(ids.MESSAGE, message_id)}"
            data = {
                "MessageSid": sid,
                "SmsSid": sid,
                "AccountSid": SIMULATOR_ACCOUNT_SID,
                "From": from_number,
                "To": to,
                "MessageStatus": status,
                "SmsStatus": status,
                "ApiVersion": "2010-04-01",
            }
            signature = validator.compute_signature(api_url + path, data)
            requests.append((path, urlencode(data), signature))

    bare_rate, bare_p99 = wrk(f"{api_url}/healthz", None)
    lag = LagSampler(database_url)
    if os.environ.get("BENCH_PROFILE"):
        subprocess.Popen(
            [
                ".venv/bin/py-spy",
                "record",
                "-d",
                "8",
                "-o",
                "/tmp/cb.txt",
                "-f",
                "raw",
                "-p",
                str(api.pid),
            ]
        )
    # CPU per callback of the API process: a figure that other load on the machine moves less.
    api_cpu = psutil.Process(api.pid)
    cpu_before = sum(api_cpu.cpu_times()[:2])
    threads_before = thread_cpu(api_cpu)
    rate, latency_p99 = wrk(api_url, lua_script(requests))
    cpu_per_callback = (sum(api_cpu.cpu_times()[:2]) - cpu_before) / (rate * SECONDS)
    threads_after = thread_cpu(api_cpu)
    per_thread = sorted(
        ((t - threads_before.get(tid, 0.0), tid) for tid, t in threads_after.items()), reverse=True
    )
    lags = lag.stop()
    with psycopg.connect(database_url, autocommit=True) as conn:
        delivered = conn.execute(
            "SELECT count(*) FROM herald.messages WHERE status = 'delivered'"
        ).fetchone()[0]  # type: ignore[index]
        kept = conn.execute("SELECT sum(callbacks) FROM herald.messages").fetchone()[0]  # type: ignore[index]
    api.terminate()
    simulator.terminate()
    print(
        f"{count} messages; {rate * SECONDS:.0f} signed callbacks posted in {SECONDS} s"
        f" ({len(requests)} distinct, then repeats); {delivered} delivered; {kept} kept in history"
    )
    print(
        f"bare Litestar handler (GET /healthz): {bare_rate:.0f} requests/s, p99 {bare_p99:.1f} ms"
    )
    print(
        f"status callbacks: {rate:.0f}/s ({rate / bare_rate:.0%} of the bare handler),"
        f" p99 {latency_p99:.1f} ms; API process CPU {cpu_per_callback * 1e6:.0f} µs per callback"
    )
    print(
        "API CPU per callback by thread (µs; 'main' runs the event loop): "
        + ", ".join(
            f"{'main' if tid == api.pid else tid} {used / (rate * SECONDS) * 1e6:.0f}"
            for used, tid in per_thread[:6]
        )
    )
    print(
        "read-model lag (log position recorded -> projected, sampled every 10 ms):"
        f" p99 {p99(lags) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms over {len(lags)} samples"
    )
    herald.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
