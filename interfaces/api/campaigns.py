"""/v1/sms/campaigns: create, list, read, page recipients, cancel, launch, pause, resume, retry."""

from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, delete, get, post
from litestar.params import Parameter

from application.campaign_checks import CreateCampaign
from application.campaigns import Campaigns
from application.errors import NotFound, problem
from application.preview import MAX_MESSAGES_SHOWN, MESSAGES_SHOWN, CampaignPreview
from domain import ids
from domain.phone import PhoneValidator
from domain.status import CampaignStatus, RecipientStatus
from interfaces.api.body import validate_body
from interfaces.api.responses import AUTHENTICATED, WITH_BODY, errors
from projections.queries import Queries
from projections.views import (
    CampaignDetailView,
    CampaignPage,
    CampaignView,
    CreatedCampaignView,
    RecipientPage,
)

# The state key of the campaigns' phone rules: the body hook runs before dependency injection.
PHONE_VALIDATOR = "phone_validator"
Limit = Annotated[int, Parameter(ge=1, le=1000)]
PreviewLimit = Annotated[int, Parameter(ge=1, le=MAX_MESSAGES_SHOWN)]
# Checked by the use case with the body's fields (one 422 for all), so only documented here.
IdempotencyKey = Annotated[
    str | None,
    Parameter(
        header="Idempotency-Key",
        required=False,
        description="The same key and body give the same campaign; the same key with"
        " another body is a 409. 1 to 255 printable ASCII characters.",
        schema_extra={"pattern": "^[ -~]{1,255}$"},
    ),
]


def recipient_phone_problems(request: Request, value: Any) -> list[dict[str, Any]]:  # type: ignore[type-arg]
    """Malformed or disallowed phones, for a body that also has fields of the wrong type."""
    recipients = value.get("recipients") if isinstance(value, dict) else None
    if not isinstance(recipients, list):
        return []
    validator: PhoneValidator = request.app.state[PHONE_VALIDATOR]
    problems = []
    for index, recipient in enumerate(recipients):
        phone = recipient.get("phone") if isinstance(recipient, dict) else None
        found = validator.problem(phone) if isinstance(phone, str) else None
        if found is not None:
            field = f"recipients[{index}].phone"
            problems.append(problem(field, phone, found.code, found.reason, index=index))
    return problems


def _campaign_uuid(campaign_id: str) -> UUID:
    uuid = ids.parse_public_id(ids.CAMPAIGN, campaign_id)
    if uuid is None:
        raise NotFound(f"campaign {campaign_id} not found")
    return uuid


class CampaignController(Controller):
    path = "/v1/sms/campaigns"
    tags = ["campaigns"]

    @post(
        "/",
        operation_id="createCampaign",
        responses=errors(*WITH_BODY, 409),
        status_code=201,
        before_request=validate_body(CreateCampaign, also=recipient_phone_problems),
        sync_to_thread=True,
    )
    def create(
        self,
        data: CreateCampaign,
        account_id: UUID,
        campaigns: Campaigns,
        queries: Queries,
        idempotency_key: IdempotencyKey = None,
    ) -> CreatedCampaignView:
        key = idempotency_key or None
        created = campaigns.create(account_id, data, source="api", idempotency_key=key)
        view = queries.created_campaign(account_id, created.campaign_id)
        assert view is not None
        return view

    @post(
        "/preview",
        operation_id="previewCampaign",
        responses=errors(*WITH_BODY),
        status_code=200,
        before_request=validate_body(CreateCampaign, also=recipient_phone_problems),
        sync_to_thread=True,
        description="A dry run of create with the same body: the report create would give"
        " (invalid recipients with reasons, duplicates, opted out, segments and encodings,"
        " cost, when sending would start and end) and the first `limit` rendered messages."
        " Nothing is recorded.",
    )
    def preview(
        self,
        data: CreateCampaign,
        account_id: UUID,
        campaigns: Campaigns,
        limit: PreviewLimit = MESSAGES_SHOWN,
    ) -> CampaignPreview:
        return campaigns.preview(account_id, data, limit)

    @get(
        "/",
        operation_id="listCampaigns",
        responses=errors(*AUTHENTICATED, 422),
        sync_to_thread=True,
    )
    def list(
        self,
        account_id: UUID,
        queries: Queries,
        status: CampaignStatus | None = None,
        source: Literal["api", "dashboard"] | None = None,
        cursor: str | None = None,
        limit: Limit = 100,
    ) -> CampaignPage:
        return queries.campaigns(account_id, status, source, cursor, limit)

    @get(
        "/{campaign_id:str}",
        operation_id="getCampaign",
        responses=errors(*AUTHENTICATED, 404, 422),
        sync_to_thread=True,
    )
    def read(
        self, campaign_id: str, account_id: UUID, queries: Queries, limit: Limit = 100
    ) -> CampaignDetailView:
        view = queries.campaign_detail(account_id, _campaign_uuid(campaign_id), limit)
        if view is None:
            raise NotFound(f"campaign {campaign_id} not found")
        return view

    @get(
        "/{campaign_id:str}/recipients",
        operation_id="listRecipients",
        responses=errors(*AUTHENTICATED, 404, 422),
        sync_to_thread=True,
    )
    def recipients(
        self,
        campaign_id: str,
        account_id: UUID,
        queries: Queries,
        status: RecipientStatus | None = None,
        cursor: str | None = None,
        limit: Limit = 100,
    ) -> RecipientPage:
        uuid = _campaign_uuid(campaign_id)
        if queries.campaign(account_id, uuid) is None:
            raise NotFound(f"campaign {campaign_id} not found")
        return queries.recipients(uuid, status, cursor, limit)

    @delete(
        "/{campaign_id:str}",
        operation_id="cancelCampaign",
        status_code=200,
        responses=errors(*AUTHENTICATED, 404, 409),
        sync_to_thread=True,
    )
    def cancel(
        self, campaign_id: str, account_id: UUID, campaigns: Campaigns, queries: Queries
    ) -> CampaignView:
        campaigns.cancel(account_id, campaign_id)
        return _view(queries, account_id, campaign_id)

    @post(
        "/{campaign_id:str}/launch",
        operation_id="launchCampaign",
        responses=errors(*AUTHENTICATED, 404, 409),
        status_code=200,
        sync_to_thread=True,
    )
    def launch(
        self, campaign_id: str, account_id: UUID, campaigns: Campaigns, queries: Queries
    ) -> CampaignView:
        campaigns.launch(account_id, campaign_id)
        return _view(queries, account_id, campaign_id)

    @post(
        "/{campaign_id:str}/pause",
        operation_id="pauseCampaign",
        responses=errors(*AUTHENTICATED, 404, 409),
        status_code=200,
        sync_to_thread=True,
    )
    def pause(
        self, campaign_id: str, account_id: UUID, campaigns: Campaigns, queries: Queries
    ) -> CampaignView:
        """Stops submissions: nothing more is submitted once this returns."""
        campaigns.pause(account_id, campaign_id)
        return _view(queries, account_id, campaign_id)

    @post(
        "/{campaign_id:str}/resume",
        operation_id="resumeCampaign",
        responses=errors(*AUTHENTICATED, 404, 409),
        status_code=200,
        sync_to_thread=True,
    )
    def resume(
        self, campaign_id: str, account_id: UUID, campaigns: Campaigns, queries: Queries
    ) -> CampaignView:
        campaigns.resume(account_id, campaign_id)
        return _view(queries, account_id, campaign_id)

    @post(
        "/{campaign_id:str}/retry",
        operation_id="retryCampaign",
        responses=errors(*AUTHENTICATED, 404, 409),
        status_code=200,
        sync_to_thread=True,
    )
    def retry(
        self, campaign_id: str, account_id: UUID, campaigns: Campaigns, queries: Queries
    ) -> CampaignView:
        """Sends again to recipients that failed with a retryable error (never delivered ones)."""
        uuid = _campaign_uuid(campaign_id)
        if queries.campaign(account_id, uuid) is None:
            raise NotFound(f"campaign {campaign_id} not found")
        campaigns.retry(account_id, campaign_id, queries.retryable_failures(uuid))
        return _view(queries, account_id, campaign_id)


def _view(queries: Queries, account_id: UUID, campaign_id: str) -> CampaignView:
    view = queries.campaign(account_id, _campaign_uuid(campaign_id))
    assert view is not None
    return view
