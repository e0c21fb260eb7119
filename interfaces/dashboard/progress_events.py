"""Live progress of a campaign's page, pushed with Server-Sent Events.

`GET /dashboard/campaigns/{id}/events` sends a `progress` event whenever the campaign's
status or counts change (read from the read models twice a second), and `end` once it is
no longer scheduled, running or paused. The page's script turns each `progress` into an
htmx request for the page's live part, rendered by the same route and template as the
page itself, so the pushed state and a reload always agree. A stream ends after
`STREAM_SECONDS` (the browser's EventSource connects again), so nothing stays open for
long when the server stops.
"""

import json
from collections.abc import AsyncIterator
from uuid import UUID

import anyio
from anyio import to_thread
from litestar import Controller, get
from litestar.response import ServerSentEvent, ServerSentEventMessage

from interfaces.dashboard.auth import Viewer
from interfaces.dashboard.pages import ACTIVE, campaign_uuid, owned_campaign
from projections.queries import Queries
from projections.views import CampaignView

EVERY = 0.5  # seconds between reads of the campaign
STREAM_SECONDS = 60.0
RETRY_MS = 1000  # how soon the browser reconnects


def state(view: CampaignView) -> str:
    """What the page shows of a campaign that can change while it runs."""
    return json.dumps(
        {
            "status": view.status,
            "counts": view.status_counts,
            "held_until": view.held_until.isoformat() if view.held_until else None,
            "paused_reason": view.paused_reason,
        },
        sort_keys=True,
    )


class ProgressEvents(Controller):
    path = "/dashboard/campaigns"
    include_in_schema = False

    @get("/{campaign_id:str}/events", sync_to_thread=True)
    def events(self, campaign_id: str, viewer: Viewer, queries: Queries) -> ServerSentEvent:
        owned_campaign(queries, viewer, campaign_id)  # another account's campaign: 404, no stream
        uuid = campaign_uuid(campaign_id)
        return ServerSentEvent(
            changes(queries, viewer.account_id, uuid, campaign_id), retry_duration=RETRY_MS
        )


async def changes(
    queries: Queries, account_id: UUID, uuid: UUID, campaign_id: str
) -> AsyncIterator[ServerSentEventMessage]:
    last = None
    with anyio.move_on_after(STREAM_SECONDS):
        while True:
            view = await to_thread.run_sync(queries.campaign, account_id, uuid)
            if view is None:
                return
            now = state(view)
            if now != last:
                yield ServerSentEventMessage(data=now, event="progress")
                last = now
            if view.status not in ACTIVE:
                yield ServerSentEventMessage(data=campaign_id, event="end")
                return
            await anyio.sleep(EVERY)
