"""Running ASGI apps (Herald's API, the simulator) under uvicorn, blocking or in a thread."""

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from interfaces.bootstrap import Herald

START_TIMEOUT = 10.0


def run_api(herald: Herald, host: str, port: int) -> None:
    from interfaces.api.app import create_app

    uvicorn.run(create_app(herald), host=host, port=port, log_level="warning", access_log=False)


class ServerHandle:
    """A server running in a daemon thread; `url` is where it listens."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, url: str) -> None:
        self.server, self.thread, self.url = server, thread, url

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket. Its protocol must be IPPROTO_TCP (not 0, as from
    `socket.create_server`): asyncio sets TCP_NODELAY only on such connections, and
    without it every keep-alive request waits ~40 ms for a delayed ACK."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    return listener


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> ServerHandle:
    """Serve `app` from a daemon thread; return once it accepts requests (port 0: any)."""
    listener = listen(host, port)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="uvicorn", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            listener.close()
            raise RuntimeError("the server did not start")
        time.sleep(0.005)
    bound_host, bound_port = listener.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return ServerHandle(server, thread, f"http://{shown}:{bound_port}")
