"""The Litestar app: Twilio's Messages endpoints, and the `/_sim` control API."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast
from urllib.parse import parse_qsl

import msgspec
from litestar import Litestar, Request, Response, Router, get, post
from litestar.datastructures import State

from simulator.config import SimulatorConfig
from simulator.listing import parse_query
from simulator.resources import error_body
from simulator.simulator import Answer, Simulator

AnyRequest = Request[Any, Any, Any]


def _simulator(request: AnyRequest) -> Simulator:
    return cast(Simulator, request.app.state.simulator)


def _json(answer: Answer) -> Response[Any]:
    status, body = answer
    return Response(body, status_code=status)


# Twilio's API, under /2010-04-01/Accounts/{account_sid}


async def _authenticate(request: AnyRequest) -> Response[Any] | None:
    """Answered instead of the handler when the Basic auth is wrong."""
    account_sid = request.path_params["account_sid"]
    if _simulator(request).authenticate(account_sid, request.headers.get("authorization")):
        return None
    return _json((401, error_body(20003, 401)))


@post("/Messages.json")
async def create_message(request: AnyRequest, account_sid: str) -> Response[Any]:
    form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    return _json(await _simulator(request).create_message(account_sid, form))


@get("/Messages.json")
async def list_messages(request: AnyRequest, account_sid: str) -> Response[Any]:
    try:
        query = parse_query(request.query_params)
    except ValueError as error:
        return _json((400, error_body(20001, 400, f"Invalid parameter: {error}")))
    return _json(_simulator(request).list_messages(account_sid, query))


@get("/Messages/{resource:str}")
async def fetch_message(request: AnyRequest, account_sid: str, resource: str) -> Response[Any]:
    return _json(_simulator(request).fetch_message(account_sid, resource.removesuffix(".json")))


# The control API, under /_sim


class Inbound(msgspec.Struct):
    url: str
    from_: str = msgspec.field(name="from")
    to: str
    body: str
    account_sid: str | None = None


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/messages")
async def get_messages(request: AnyRequest) -> dict[str, Any]:
    return {"messages": _simulator(request).messages()}


@get("/config")
async def get_config(request: AnyRequest) -> dict[str, Any]:
    return _simulator(request).options()


@post("/config", status_code=200)
async def update_config(request: AnyRequest, data: dict[str, Any]) -> Response[Any]:
    try:
        return _json((200, _simulator(request).update_options(data)))
    except ValueError as error:  # msgspec.ValidationError is one too
        return _json((400, {"error": str(error)}))


@post("/reset", status_code=200)
async def reset(request: AnyRequest) -> dict[str, Any]:
    return _simulator(request).reset()


@post("/inbound", status_code=200)
async def inbound(request: AnyRequest, data: Inbound) -> Response[Any]:
    simulator = _simulator(request)
    return _json(
        await simulator.inbound(data.url, data.from_, data.to, data.body, data.account_sid)
    )


def create_simulator_app(config: SimulatorConfig | None = None) -> Litestar:
    """The ASGI app; its webhooks start and stop with the app's lifespan."""
    simulator = Simulator(config or SimulatorConfig())

    @asynccontextmanager
    async def webhooks(_: Litestar) -> AsyncIterator[None]:
        await simulator.webhooks.start()
        try:
            yield
        finally:
            await simulator.webhooks.stop()

    twilio_api = Router(
        "/2010-04-01/Accounts/{account_sid:str}",
        route_handlers=[create_message, list_messages, fetch_message],
        before_request=_authenticate,
    )
    control_api = Router(
        "/_sim", route_handlers=[health, get_messages, get_config, update_config, reset, inbound]
    )
    return Litestar(
        [twilio_api, control_api],
        state=State({"simulator": simulator}),
        lifespan=[webhooks],
        openapi_config=None,
        logging_config=None,  # Litestar's default would set the root logger to INFO
    )
