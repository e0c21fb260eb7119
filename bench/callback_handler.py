"""The event loop's CPU per status callback, in process: the figure a regroup moves.

    .venv/bin/python -m bench.callback_handler [CALLBACKS]

Signed-looking status callbacks for unknown messages go through the whole ASGI app
(middleware, routing, dependencies, the handler, the callback batcher's round trip, which
answers 404) one after another, and the thread time of the loop's thread is divided by
their number. Baseline in the same run: GET /healthz, a bare handler, through the same
app. Unlike bench.callbacks, nothing else on the machine moves this figure much: it counts
CPU of one thread, not requests per second.
"""

import asyncio
import sys
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from bench.common import fresh_database
from domain import ids
from interfaces.api.app import create_app
from interfaces.bootstrap import bootstrap
from interfaces.settings import Settings

WARM_UP = 300


async def call(app: Any, method: str, path: str, body: bytes = b"") -> int:
    """One request through the ASGI app, as uvicorn would make it; its status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
            (b"x-twilio-signature", b"bm90IGNoZWNrZWQ="),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    received = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:
            await asyncio.Event().wait()  # no disconnect: the request is answered first
        received = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def cpu_per_call(app: Any, method: str, paths: list[str], body: bytes) -> float:
    """Seconds of this thread's CPU per request, after a warm-up."""
    for path in paths[:WARM_UP]:
        await call(app, method, path, body)
    started = time.thread_time()
    for path in paths:
        status = await call(app, method, path, body)
    if status >= 500:
        raise RuntimeError(f"{method} {paths[-1]} answered {status}")
    return (time.thread_time() - started) / len(paths)


async def measure(app: Any, count: int) -> tuple[float, float]:
    body = urlencode(
        {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", "AccountSid": "AC" + "b" * 32}
    ).encode()
    callbacks = [
        f"/webhooks/twilio/status/{ids.public_id(ids.MESSAGE, uuid.uuid4())}" for _ in range(count)
    ]
    bare = await cpu_per_call(app, "GET", ["/healthz"] * count, b"")
    callback = await cpu_per_call(app, "POST", callbacks, body)
    return bare, callback


def main(count: int) -> None:
    herald = bootstrap(Settings(database_url=fresh_database("herald_bench_callback_handler")))
    try:
        bare, callback = asyncio.run(measure(create_app(herald, follow_projection=False), count))
    finally:
        herald.close()
    print(f"{count} requests each, one at a time, CPU of the event loop's thread:")
    print(f"bare Litestar handler (GET /healthz): {bare * 1e6:.0f} µs per request")
    print(
        f"status callback (unknown message, 404): {callback * 1e6:.0f} µs,"
        f" {callback / bare:.1f} times the bare handler"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
