"""End-to-end fixtures: Herald's own processes, started as a user would start them."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

HERALD = str(Path(sys.executable).with_name("herald"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def herald_cli(database_url: str, *args: str) -> str:
    """Run a `herald` command; its last line of output (where ids are printed)."""
    done = subprocess.run(
        [HERALD, *args],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def wait_healthy(
    url: str, process: subprocess.Popen[bytes], timeout: float = 30, path: str = "/healthz"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}{path}", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not become healthy")


@contextmanager
def serving(database_url: str, **env: str) -> Iterator[str]:
    """`herald serve` on a free port, until the block ends; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [HERALD, "serve", "--port", str(port)],
        env={**os.environ, "DATABASE_URL": database_url, **env},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def api_url(database_url: str) -> Iterator[str]:
    with serving(database_url) as url:
        yield url


class Stack:
    """`herald simulator` and `herald serve` as processes; dispatchers started on demand."""

    def __init__(self, database_url: str) -> None:
        self.sim_port, self.api_port = free_port(), free_port()
        self.sim_url = f"http://127.0.0.1:{self.sim_port}"
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TWILIO_API_BASE_URL": self.sim_url,
            "HERALD_PUBLIC_URL": self.api_url,
            "HERALD_DISPATCH_LEASE": "1",
            "HERALD_ATTEMPT_TIMEOUT": "3",
        }
        self.processes: list[subprocess.Popen[bytes]] = []
        simulator = self.spawn("simulator", "--port", str(self.sim_port))
        wait_healthy(self.sim_url, simulator, path="/_sim/health")
        api = self.spawn("serve", "--port", str(self.api_port))
        wait_healthy(self.api_url, api)

    def spawn(self, *args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen([HERALD, *args], env=self.env)
        self.processes.append(process)
        return process

    def dispatcher(self) -> subprocess.Popen[bytes]:
        return self.spawn("dispatch")

    def sent(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.sim_url}/_sim/messages", timeout=30).json()["messages"]

    def simulate(self, **options: object) -> None:
        httpx.post(f"{self.sim_url}/_sim/config", json=options, timeout=30).raise_for_status()

    def close(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def stack(database_url: str) -> Iterator[Stack]:
    running = Stack(database_url)
    yield running
    running.close()
