"""create_app(): the Litestar application, over the services of a bootstrapped Herald."""

import threading

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from interfaces.api.account import AccountController
from interfaces.api.audit import AuditController
from interfaces.api.auth import ApiKeyAuthentication, account_of
from interfaces.api.campaigns import PHONE_VALIDATOR, CampaignController
from interfaces.api.consents import ConsentController
from interfaces.api.conversations import ConversationController
from interfaces.api.directory import AgentController, NumberController
from interfaces.api.errors import EXCEPTION_HANDLERS
from interfaces.api.inbound import InboundWebhookController
from interfaces.api.limits import HeaderLimits
from interfaces.api.options import AllowEveryMethod
from interfaces.api.responses import errors
from interfaces.api.sms import SmsController
from interfaces.api.webhooks import StatusWebhook, TwilioSignatures, WebhookController
from interfaces.bootstrap import Herald
from interfaces.dashboard import dashboard_router, root, template_config
from interfaces.dashboard.auth import dashboard_secret, viewer_of
from projections.timeline import OutcomeTimeline

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
    """The API over `herald`'s parts. Each controller is given, by name, the services it
    uses (Litestar's dependency injection), never Herald itself; they are built here, as the
    app is made, so no request builds one."""
    stop = threading.Event()
    followers: list[threading.Thread] = []
    projector = herald.projector

    def start() -> None:
        if follow_projection:
            followers.append(projector.follow(stop))

    def shutdown() -> None:
        # Joined, so that whoever closes the pools next does not pull them from under it.
        stop.set()
        for follower in followers:
            follower.join(FOLLOWER_STOP_TIMEOUT)

    settings = herald.settings
    signatures = TwilioSignatures(settings.public_url, herald.twilio_credentials)
    services: dict[str, object] = {
        "campaigns": herald.campaigns,
        "sms": herald.sms,
        "directory": herald.directory,
        "queries": herald.queries,
        "status_webhook": StatusWebhook(signatures, herald.status_callbacks),
        "audit": herald.audit,
        "consents": herald.consents,
        "signatures": signatures,
        "inbound": herald.inbound,
        "conversations": herald.conversations,
        "sms_wait_seconds": settings.sms_wait_seconds,
        "timeline": OutcomeTimeline(herald.queries.pool),
    }
    return Litestar(
        route_handlers=[
            healthz,
            CampaignController,
            SmsController,
            AgentController,
            NumberController,
            AccountController,
            WebhookController,
            InboundWebhookController,
            ConversationController,
            AuditController,
            ConsentController,
            root,
            dashboard_router(dashboard_secret(settings)),
        ],
        template_config=template_config(),
        dependencies={
            **{name: _provide(service) for name, service in services.items()},
            "account_id": Provide(account_of, sync_to_thread=False),
            "viewer": Provide(viewer_of, sync_to_thread=True),
            "dashboard_secret": _provide(dashboard_secret(settings)),
        },
        # Headers are checked first, then the caller; only then is a body read.
        middleware=[
            HeaderLimits(),
            AllowEveryMethod(),
            DefineMiddleware(
                ApiKeyAuthentication, exclude=["^/schema", "^/dashboard"], api_keys=herald.queries
            ),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        # For the create body's hook, which runs before dependencies are resolved.
        state=State({PHONE_VALIDATOR: herald.campaigns.checks.validator}),
        request_max_body_size=settings.max_body_bytes,
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


def _provide(service: object) -> Provide:
    def provider() -> object:
        return service

    return Provide(provider, use_cache=True, sync_to_thread=False)
