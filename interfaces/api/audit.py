"""/v1/audit: the history of a phone or of a campaign, the calling account's events only."""

from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.params import Parameter

from application.audit import MAX_PAGE, Audit, CampaignAudit, PhoneAudit
from interfaces.api.responses import AUTHENTICATED, errors

At = Annotated[
    str | None,
    Parameter(
        description="The moment to answer 'what consent was held' for: an RFC 3339 time"
        " with its offset, or a date (the end of that day, UTC). Default: now.",
        required=False,
    ),
]
Limit = Annotated[int, Parameter(ge=1, le=MAX_PAGE)]
After = Annotated[int, Parameter(ge=0, description="the last position already read")]


class AuditController(Controller):
    path = "/v1/audit"
    tags = ["audit"]

    @get(
        "/phones/{phone:str}",
        operation_id="auditPhone",
        responses=errors(*AUTHENTICATED, 422),
        sync_to_thread=True,
        description="Every event of this account about the phone, in the order recorded:"
        " its consent (opt-ins and opt-outs with their evidence), its conversations and every"
        " message sent to it; the consent held `at`, and any submission made after an"
        " opt-out was recorded. A phone this account never dealt with has an empty history.",
    )
    def phone(self, phone: str, account_id: UUID, audit: Audit, at: At = None) -> PhoneAudit:
        return audit.phone(account_id, phone, at)

    @get(
        "/campaigns/{campaign_id:str}",
        operation_id="auditCampaign",
        responses=errors(*AUTHENTICATED, 404, 422),
        sync_to_thread=True,
        description="The campaign's events, its recipient batches' and its messages', in the"
        " order recorded, a page at a time (`next_after` names the next page); and every"
        " submission made to a phone after its opt-out was recorded.",
    )
    def campaign(
        self,
        campaign_id: str,
        account_id: UUID,
        audit: Audit,
        after: After = 0,
        limit: Limit = 1000,
    ) -> CampaignAudit:
        return audit.campaign(account_id, campaign_id, after, limit)
