"""Small real HTTP servers the responder tests start: an agent's webhook and an
OpenAI-compatible chat completions endpoint, each on a thread of its own (http.server).
Each records what it was asked and answers as the test says: text, a status, garbage,
slowly."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    content_type: str = "application/json"
    body: bytes = b""
    delay: float = 0.0  # seconds before answering


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class LocalServer:
    """An HTTP server on 127.0.0.1 answering every POST with `answer(received)`."""

    def __init__(self, answer: Callable[[Received], Reply]) -> None:
        self.answer = answer
        self.received: list[Received] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                headers = {k.lower(): v for k, v in self.headers.items()}
                received = Received(self.path, headers, self.rfile.read(length))
                server.received.append(received)
                reply = server.answer(received)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:  # the client gave up waiting
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def text_reply(text: str, delay: float = 0.0) -> Reply:
    return Reply(body=json.dumps({"text": text}).encode(), delay=delay)


def completion(content: Any, model: str = "test-model") -> Reply:
    """A chat completion as OpenAI's API answers it."""
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }
    return Reply(body=json.dumps(body).encode())


class Switchable:
    """An answer a test can change between requests."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply

    def __call__(self, received: Received) -> Reply:
        return self.reply


@contextmanager
def local_server(answer: Callable[[Received], Reply]) -> Iterator[LocalServer]:
    server = LocalServer(answer)
    try:
        yield server
    finally:
        server.stop()
