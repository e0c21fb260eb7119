"""The responders that write an agent's answers (application.ports.Responder).

- webhook: the ReplyRequest is POSTed as JSON to the agent's URL. The answer is the
  response to that POST, status 2xx, either `application/json` holding an object with a
  string `text` (`{"text": "See you at 3pm"}`), or any `text/*` body, taken whole. Anything
  else (another status, another content type, JSON without a string `text`, a body over
  64 KiB, undecodable bytes) is an unusable answer. Redirects are not followed.
- openai: the official `openai` client against any OpenAI-compatible chat completions
  endpoint (HERALD_OPENAI_BASE_URL, _MODEL, _API_KEY): the agent's system prompt as the
  system message (noting left-out turns), the thread as user (inbound) and assistant
  (outbound) turns, the first choice's content as the answer.

Neither retries: the client's own retries are off, and a failure is recorded on the
thread once (application/replies.py).
"""

import threading
import time
from typing import Any

import httpx
import msgspec

from application.ports import ReplyRequest, ResponderFailed
from domain.replies import ResponderKind, system_message

MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "Herald-Responder/1"


class WebhookResponder:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.client = httpx.Client(
            timeout=timeout, follow_redirects=False, headers={"User-Agent": USER_AGENT}
        )

    def answer(self, url: str, request: ReplyRequest) -> str:
        deadline = time.monotonic() + self.timeout
        try:
            with self.client.stream(
                "POST",
                url,
                content=msgspec.json.encode(request),
                headers={"Content-Type": "application/json", "Accept": "application/json"},
            ) as response:
                body = _read_limited(response, deadline)
        except httpx.TimeoutException as error:
            raise ResponderFailed(
                "timeout", f"no answer within {self.timeout:g} s ({type(error).__name__})"
            ) from None
        except httpx.HTTPError as error:
            raise ResponderFailed("connection_failed", _describe(error)) from None
        if not 200 <= response.status_code < 300:
            raise ResponderFailed("http_error", f"the webhook answered HTTP {response.status_code}")
        return _text_of(response.headers.get("content-type", ""), body)

    def close(self) -> None:
        self.client.close()


def _read_limited(response: httpx.Response, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise ResponderFailed("unusable_answer", f"the answer is over {MAX_ANSWER_BYTES} bytes")
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("the answer came too slowly")
        chunks.append(chunk)
    return b"".join(chunks)


def _text_of(content_type: str, body: bytes) -> str:
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        try:
            decoded = msgspec.json.decode(body)
        except msgspec.DecodeError:
            raise ResponderFailed("unusable_answer", "the answer is not valid JSON") from None
        text = decoded.get("text") if isinstance(decoded, dict) else None
        if not isinstance(text, str):
            raise ResponderFailed("unusable_answer", 'the JSON answer has no string "text" field')
        return text
    if media.startswith("text/"):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise ResponderFailed("unusable_answer", "the answer is not UTF-8 text") from None
    shown = media or "no content type"
    raise ResponderFailed("unusable_answer", f"the answer is {shown}, not application/json or text")


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:300]


class OpenAIResponder:
    """The `openai` package takes seconds to import: it is imported, and the client made,
    when an agent's reply first needs it, not in every `herald` command."""

    def __init__(self, base_url: str, model: str, api_key: str, timeout: float) -> None:
        self.base_url = base_url
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self._client: Any = None
        self._lock = threading.Lock()

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                import openai

                # A local server (Ollama, llama.cpp) wants no key; the client insists on one.
                self._client = openai.OpenAI(
                    base_url=self.base_url,
                    api_key=self.api_key or "unused",
                    timeout=self.timeout,
                    max_retries=0,
                )
            return self._client

    def messages(self, request: ReplyRequest) -> list[dict[str, Any]]:
        system = system_message(request.system_prompt, len(request.thread), request.omitted)
        turns: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
        for turn in request.thread:
            role = "user" if turn.direction == "inbound" else "assistant"
            turns.append({"role": role, "content": turn.body})
        return turns

    def answer(self, request: ReplyRequest) -> str:
        import openai

        try:
            completion = self.client().chat.completions.create(
                model=self.model, messages=self.messages(request)
            )
        except openai.APITimeoutError:
            raise ResponderFailed("timeout", f"no answer within {self.timeout:g} s") from None
        except openai.APIConnectionError as error:
            raise ResponderFailed("connection_failed", _describe(error)) from None
        except openai.APIStatusError as error:
            raise ResponderFailed(
                "http_error", f"the endpoint answered HTTP {error.status_code}"
            ) from None
        except (openai.OpenAIError, ValueError) as error:  # an answer the client cannot read
            raise ResponderFailed("unusable_answer", _describe(error)) from None
        choices = getattr(completion, "choices", None)
        if not choices or getattr(choices[0], "message", None) is None:
            raise ResponderFailed("unusable_answer", "the completion has no choices")
        content = choices[0].message.content
        if not isinstance(content, str):
            raise ResponderFailed("unusable_answer", "the completion's message has no content")
        return content

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


class Responders:
    """The Responder port: each agent's answer from the responder it has set."""

    def __init__(self, webhook: WebhookResponder, openai_: OpenAIResponder) -> None:
        self.webhook = webhook
        self.openai = openai_

    def answer(self, kind: str, url: str | None, request: ReplyRequest) -> str:
        if kind == ResponderKind.WEBHOOK and url:
            return self.webhook.answer(url, request)
        if kind == ResponderKind.OPENAI:
            return self.openai.answer(request)
        raise ResponderFailed("not_configured", f"the agent's responder is {kind}")

    def close(self) -> None:
        self.webhook.close()
        self.openai.close()
