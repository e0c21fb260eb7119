"""The dashboard's pages: sign-in, the campaigns list, a new campaign (paste or CSV, a
preview from the API's dry run, then send, schedule or save as draft) and a campaign's
page (live progress, recipients, cancel / pause / resume / retry).

Every read goes through projections/queries.py and every change through the use cases
the API calls, so a page and the API always agree. Forms carry Litestar's CSRF token.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

from anyio import to_thread
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Response, Template

from application.campaign_checks import CreateCampaign, RecipientIn
from application.campaigns import Campaigns
from application.errors import ApplicationError, NotFound, ValidationFailed
from application.preview import MAX_MESSAGES_SHOWN, CampaignPreview
from domain import ids
from domain.recipient_lists import (
    RecipientList,
    RecipientListError,
    parse_csv,
    parse_pasted,
    placeholders,
    unknown_placeholders,
)
from domain.recipients import RECOMMENDED_MESSAGE_CHARS
from domain.segments import count_segments
from domain.status import CampaignStatus, RecipientStatus
from interfaces.api.auth import authenticate
from interfaces.api.errors import NotAuthorized
from interfaces.dashboard.auth import Viewer, key_of_link, sign_in
from projections.queries import Queries
from projections.timeline import OutcomeTimeline, Timeline
from projections.views import CampaignView

DEFAULT_TEMPLATE = "Hi {{name}}, this is Acme Dental. Reply STOP to opt out."
PAGE_SIZE = 20  # campaigns, rendered messages and recipients per page
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # a CSV larger than this is refused, naming the limit
ACTIVE = {CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED}
ACTIONS = ("launch", "cancel", "pause", "resume", "retry")


def campaign_uuid(campaign_id: str) -> UUID:
    uuid = ids.parse_public_id(ids.CAMPAIGN, campaign_id)
    if uuid is None:
        raise NotFoundException(f"campaign {campaign_id} not found")
    return uuid


def owned_campaign(queries: Queries, viewer: Viewer, campaign_id: str) -> CampaignView:
    """The viewer's campaign; another account's is not found, as an unknown one."""
    view = queries.campaign(viewer.account_id, campaign_uuid(campaign_id))
    if view is None:
        raise NotFoundException(f"campaign {campaign_id} not found")
    return view


def progress(view: CampaignView) -> dict[str, Any]:
    """The progress bar's parts, in percent of the campaign's recipients."""
    total = max(view.total_count, 1)
    finished = view.delivered_count + view.failed_count + view.cancelled_count
    finished += view.suppressed_count
    counts = view.status_counts
    return {
        "done_percent": math.floor(100 * finished / total),
        "delivered": 100 * view.delivered_count / total,
        "failed": 100 * view.failed_count / total,
        "other": 100 * (view.cancelled_count + view.suppressed_count) / total,
        # Sent without a receipt yet: a soft failure if none ever comes (the seed's words).
        "sent_unconfirmed": counts.get("sent", 0),
        "live": view.status in ACTIVE,
    }


@dataclass
class CampaignForm:
    """A new-campaign form, as submitted."""

    values: dict[str, Any]
    upload: UploadFile | None

    @property
    def action(self) -> str:
        return str(self.values.get("action") or "preview")


async def read_form(request: Request[Any, Any, Any]) -> CampaignForm:
    form = await request.form()
    values: dict[str, Any] = {}
    upload = None
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if value.filename and name == "csv_file":
                upload = value
        elif name == "from_numbers":
            values.setdefault("from_numbers", []).append(value)
        else:
            values[name] = value
    return CampaignForm(values, upload)


def recipients_of(form: CampaignForm, data: bytes | None) -> RecipientList:
    if data is not None:
        if len(data) > MAX_UPLOAD_BYTES:
            limit = MAX_UPLOAD_BYTES // (1024 * 1024)
            raise RecipientListError(
                f"the file is {len(data) / 1024 / 1024:.1f} MB; the limit is {limit} MB"
            )
        return parse_csv(data)
    return parse_pasted(str(form.values.get("recipients_text", "")))


def command_of(form: CampaignForm, listed: RecipientList, schedule_type: str) -> CreateCampaign:
    values = form.values
    numbers = [n for n in values.get("from_numbers", []) if n]
    scheduled_at = None
    if schedule_type == "schedule" and values.get("scheduled_at"):
        try:
            scheduled_at = datetime.fromisoformat(values["scheduled_at"]).replace(tzinfo=UTC)
        except ValueError:
            raise ValidationFailed(
                "the campaign has invalid fields",
                [
                    {
                        "field": "scheduled_at",
                        "value": values["scheduled_at"],
                        "code": "invalid",
                        "message": "must be a date and time",
                    }
                ],
            ) from None
    return CreateCampaign(
        agent_id=str(values.get("agent_id", "")),
        name=str(values.get("name", "")).strip(),
        message_template=str(values.get("message_template", "")),
        recipients=[RecipientIn(phone, dict(variables)) for phone, variables in listed.rows],
        from_number=numbers[0] if len(numbers) == 1 else None,
        from_numbers=numbers if len(numbers) > 1 else None,
        schedule_type=schedule_type,  # type: ignore[arg-type]
        scheduled_at=scheduled_at,
        on_invalid="skip",  # bad rows are shown in the preview and left out
    )


def template_report(template: str) -> dict[str, Any]:
    """The template editor's counter: characters, segments, what forces UCS-2, placeholders."""
    segments = count_segments(template)
    return {
        "characters": len(template),
        "segments": segments.count,
        "encoding": segments.encoding,
        "ucs2_characters": list(segments.ucs2_characters),
        "placeholders": placeholders(template),
        "too_long": len(template) > RECOMMENDED_MESSAGE_CHARS,
        "recommended": RECOMMENDED_MESSAGE_CHARS,
    }


class DashboardController(Controller):
    path = "/dashboard"
    include_in_schema = False

    # Signing in and out.

    @get("/signin", sync_to_thread=False)
    def signin_page(self, error: str | None = None) -> Template:
        return Template("signin.html", context={"error": error})

    @post("/signin")
    async def signin(self, request: Request[Any, Any, Any], queries: Queries) -> Response[Any]:
        form = await request.form()
        key = str(form.get("api_key", "")).strip()
        try:
            account_id = await to_thread.run_sync(authenticate, f"Bearer {key}", queries)
        except NotAuthorized:
            return Template(
                "signin.html",
                context={"error": "That API key is not valid (KEY_ID:KEY_SECRET)."},
                status_code=401,
            )
        key_id = ids.parse_public_id(ids.KEY, key.partition(":")[0])
        assert key_id is not None
        return Redirect("/dashboard/", cookies=[sign_in(request, account_id, key_id)])

    @get("/signin/link", sync_to_thread=True)
    def signin_link(
        self, request: Request[Any, Any, Any], queries: Queries, dashboard_secret: str, token: str
    ) -> Response[Any]:
        key_id = key_of_link(dashboard_secret, token)
        found = queries.api_key(key_id) if key_id is not None else None
        if key_id is None or found is None:
            return Template(
                "signin.html",
                context={"error": "That sign-in link has expired or is not valid."},
                status_code=401,
            )
        return Redirect("/dashboard/", cookies=[sign_in(request, found[0], key_id)])

    @post("/signout", sync_to_thread=False)
    def signout(self, request: Request[Any, Any, Any]) -> Redirect:
        request.clear_session()
        return Redirect("/dashboard/signin")

    # Campaigns.

    @get("/", sync_to_thread=True)
    def campaigns(
        self,
        viewer: Viewer,
        queries: Queries,
        status: str | None = None,
        cursor: str | None = None,
    ) -> Template:
        chosen = status if status in set(CampaignStatus) else None
        page = queries.campaigns(viewer.account_id, chosen, None, cursor, PAGE_SIZE)
        next_url = None
        if page.next_cursor:
            query = {"cursor": page.next_cursor, **({"status": chosen} if chosen else {})}
            next_url = "/dashboard/?" + urlencode(query)
        return Template(
            "campaigns.html",
            context={
                "account": queries.account(viewer.account_id),
                "campaigns": page.campaigns,
                "status": chosen,
                "statuses": [s.value for s in CampaignStatus],
                "next_url": next_url,
                "first_page": cursor is None,
            },
        )

    @get("/campaigns/new", sync_to_thread=True)
    def new_campaign(self, viewer: Viewer, queries: Queries) -> Template:
        return Template(
            "new.html",
            context={
                "account": queries.account(viewer.account_id),
                "agents": queries.agents(viewer.account_id),
                "numbers": queries.numbers(viewer.account_id),
                "form_key": uuid4().hex,
                "template": template_report(DEFAULT_TEMPLATE),
                "default_template": DEFAULT_TEMPLATE,
                "max_upload_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
            },
        )

    @post("/campaigns/template")
    async def template_counter(self, request: Request[Any, Any, Any], viewer: Viewer) -> Template:
        form = await request.form()
        report = template_report(str(form.get("message_template", "")))
        return Template("_template_counter.html", context={"template": report})

    @post("/campaigns/new", request_max_body_size=MAX_UPLOAD_BYTES * 2)
    async def submit(
        self, request: Request[Any, Any, Any], viewer: Viewer, campaigns: Campaigns
    ) -> Response[Any]:
        """Preview (the API's dry run) or create: `action` is preview, now, schedule or draft."""
        form = await read_form(request)
        data = await form.upload.read() if form.upload is not None else None
        return await to_thread.run_sync(self._submit, form, data, viewer, campaigns)

    def _submit(
        self, form: CampaignForm, data: bytes | None, viewer: Viewer, campaigns: Campaigns
    ) -> Response[Any]:
        try:
            listed = recipients_of(form, data)
        except RecipientListError as error:
            return _errors([{"field": "recipients", "message": str(error), "value": None}])
        action = form.action
        try:
            if action == "preview":
                page = _page_number(form.values.get("page"))
                command = command_of(form, listed, "now")
                shown = min(page * PAGE_SIZE, MAX_MESSAGES_SHOWN)
                report = campaigns.preview(viewer.account_id, command, shown)
                return Template(
                    "_preview.html",
                    context=_preview_context(form, listed, command, report, page),
                )
            if action not in ("now", "schedule", "draft"):
                return _errors([{"field": "action", "message": "unknown action", "value": action}])
            command = command_of(form, listed, action)
            key = f"dashboard-{form.values.get('form_key', '')}"[:255]
            created = campaigns.create(
                viewer.account_id, command, source="dashboard", idempotency_key=key
            )
        except ApplicationError as error:
            return _errors(error.details or [{"field": "", "message": error.message}])
        url = f"/dashboard/campaigns/{ids.public_id(ids.CAMPAIGN, created.campaign_id)}"
        return Response(content="", status_code=200, headers={"HX-Redirect": url})

    @get("/campaigns/{campaign_id:str}", sync_to_thread=True)
    def campaign(
        self,
        campaign_id: str,
        viewer: Viewer,
        queries: Queries,
        timeline: OutcomeTimeline,
        status: str | None = None,
        cursor: str | None = None,
        notice: str | None = None,
    ) -> Template:
        context = _campaign_context(queries, viewer, campaign_id, status, cursor, timeline)
        return Template("campaign.html", context={**context, "notice": notice})

    @get("/campaigns/{campaign_id:str}/live", sync_to_thread=True)
    def live(
        self,
        campaign_id: str,
        viewer: Viewer,
        queries: Queries,
        timeline: OutcomeTimeline,
        status: str | None = None,
        cursor: str | None = None,
    ) -> Template:
        """The part of a campaign's page that moves, fetched again on each change pushed by
        its Server-Sent Events (progress_events.py)."""
        return Template(
            "_campaign_live.html",
            context=_campaign_context(queries, viewer, campaign_id, status, cursor, timeline),
        )

    @post("/campaigns/{campaign_id:str}/{action:str}", sync_to_thread=True)
    def act(
        self,
        campaign_id: str,
        action: str,
        viewer: Viewer,
        queries: Queries,
        campaigns: Campaigns,
    ) -> Response[Any]:
        view = owned_campaign(queries, viewer, campaign_id)
        if action not in ACTIONS:
            raise NotFoundException(f"no action {action}")
        notice = None
        try:
            if action == "retry":
                retryable = queries.retryable_failures(campaign_uuid(campaign_id))
                campaigns.retry(viewer.account_id, campaign_id, retryable)
            else:
                getattr(campaigns, action)(viewer.account_id, campaign_id)
        except NotFound as error:
            raise NotFoundException(error.message) from None
        except ApplicationError as error:
            notice = error.message
        query = f"?{urlencode({'notice': notice})}" if notice else ""
        return Redirect(f"/dashboard/campaigns/{view.campaign_id}{query}")


def chart(timeline: Timeline | None, width: int = 640, height: int = 160) -> dict[str, Any] | None:
    """An SVG line chart's points: delivered, failed and pending over time."""
    if timeline is None:
        return None
    top = max(max(timeline.pending), max(timeline.delivered), max(timeline.failed), 1)
    start, end = timeline.at[0], timeline.at[-1]
    span = max((end - start).total_seconds(), 0.001)

    def points(values: list[int]) -> str:
        return " ".join(
            f"{(at - start).total_seconds() / span * width:.1f},{height - v / top * height:.1f}"
            for at, v in zip(timeline.at, values, strict=True)
        )

    return {
        "width": width,
        "height": height,
        "delivered": points(timeline.delivered),
        "failed": points(timeline.failed),
        "pending": points(timeline.pending),
        "start": start,
        "end": end,
        "top": top,
    }


def _page_number(value: Any) -> int:
    try:
        return max(1, min(int(value), MAX_MESSAGES_SHOWN // PAGE_SIZE))
    except (TypeError, ValueError):
        return 1


def _errors(details: list[dict[str, Any]]) -> Template:
    return Template("_errors.html", context={"errors": details}, status_code=422)


def _preview_context(
    form: CampaignForm,
    listed: RecipientList,
    command: CreateCampaign,
    report: CampaignPreview,
    page: int,
) -> dict[str, Any]:
    pages = max(1, min(math.ceil(report.valid_count / PAGE_SIZE), MAX_MESSAGES_SHOWN // PAGE_SIZE))
    return {
        "report": report,
        "listed": listed,
        "source": form.upload.filename if form.upload is not None else None,
        "unknown": unknown_placeholders(command.message_template, listed.columns),
        "messages": report.messages[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        "page": page,
        "pages": pages,
        "invalid_shown": report.invalid[:100],
        "opted_out_shown": report.opted_out[:100],
    }


def _campaign_context(
    queries: Queries,
    viewer: Viewer,
    campaign_id: str,
    status: str | None,
    cursor: str | None,
    timeline: OutcomeTimeline,
) -> dict[str, Any]:
    view = owned_campaign(queries, viewer, campaign_id)
    outcomes = None
    if view.status not in ACTIVE and view.status != CampaignStatus.DRAFT:
        sendable = view.total_count - view.suppressed_count - view.cancelled_count
        outcomes = timeline.of(campaign_uuid(campaign_id), sendable)
    chosen = status if status in set(RecipientStatus) else None
    page = queries.recipients(campaign_uuid(campaign_id), chosen, cursor, PAGE_SIZE * 5)
    query = {k: v for k, v in (("status", chosen), ("cursor", cursor)) if v}
    next_query = {**query, "cursor": page.next_cursor} if page.next_cursor else None
    return {
        "account": queries.account(viewer.account_id),
        "campaign": view,
        "progress": progress(view),
        "recipients": page.recipients,
        "status": chosen,
        "statuses": [s.value for s in RecipientStatus],
        "query": urlencode(query),
        "next_query": urlencode(next_query) if next_query else None,
        "retryable": queries.retryable_failures(campaign_uuid(campaign_id)),
        "chart": chart(outcomes),
    }
