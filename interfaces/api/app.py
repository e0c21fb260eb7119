"""create_app(): the Litestar application, assembled from a bootstrapped Herald."""

import threading

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from interfaces.api.account import AccountController
from interfaces.api.auth import ApiKeyAuthentication, account_of
from interfaces.api.campaigns import CampaignController
from interfaces.api.directory import AgentController, NumberController
from interfaces.api.errors import EXCEPTION_HANDLERS
from interfaces.api.limits import HeaderLimits
from interfaces.api.options import AllowEveryMethod
from interfaces.api.responses import errors
from interfaces.api.sms import SmsController
from interfaces.api.webhooks import WebhookController
from interfaces.bootstrap import Herald

FOLLOWER_STOP_TIMEOUT = 30.0  # seconds; it stops after its current batch
API_KEY = "apiKey"  # the OpenAPI security scheme every operation but health requires


@get(
    "/healthz",
    operation_id="health",
    responses=errors(431),
    security=[{}],  # no credentials needed
    sync_to_thread=False,
    exclude_from_auth=True,
)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def create_app(herald: Herald, follow_projection: bool = True) -> Litestar:
    stop = threading.Event()
    followers: list[threading.Thread] = []

    def start() -> None:
        if follow_projection:
            followers.append(herald.projector.follow(stop))

    def shutdown() -> None:
        # Joined, so that whoever closes the pools next does not pull them from under it.
        stop.set()
        for follower in followers:
            follower.join(FOLLOWER_STOP_TIMEOUT)

    def provide_herald() -> Herald:
        return herald

    return Litestar(
        route_handlers=[
            healthz,
            CampaignController,
            SmsController,
            AgentController,
            NumberController,
            AccountController,
            WebhookController,
        ],
        dependencies={
            "herald": Provide(provide_herald, sync_to_thread=False),
            "account_id": Provide(account_of, sync_to_thread=False),
        },
        # Headers are checked first, then the caller; only then is a body read.
        middleware=[
            HeaderLimits(),
            AllowEveryMethod(),
            DefineMiddleware(ApiKeyAuthentication, exclude=["^/schema"]),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        state=State({"herald": herald}),
        request_max_body_size=herald.settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Herald",
            version="1.0.0",
            path="/schema",
            security=[{API_KEY: []}],
            components=Components(
                security_schemes={
                    API_KEY: SecurityScheme(
                        type="http",
                        scheme="bearer",
                        bearer_format="KEY_ID:KEY_SECRET",
                        description="An API key: `Authorization: Bearer KEY_ID:KEY_SECRET`",
                    )
                }
            ),
        ),
        on_startup=[start],
        on_shutdown=[shutdown],
        logging_config=None,  # Litestar's default would set the root logger to INFO
        debug=False,
    )
