"""End-to-end fixtures: Herald's own processes, started as a user would start them."""

import os
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.processes import HERALD, free_port, serving, wait_healthy


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
