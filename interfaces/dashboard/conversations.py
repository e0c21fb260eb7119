"""The dashboard's conversations: threads per phone (the campaign messages and single SMS
sent to it, its replies and the agent's answers), from the read models `/v1/conversations`
serves."""

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, get
from litestar.exceptions import NotFoundException
from litestar.response import Template

from domain import ids
from domain.conversation import PHONE_CHARS
from interfaces.dashboard.auth import Viewer
from projections.conversations import ConversationPage, ConversationQueries
from projections.queries import Queries

PAGE_SIZE = 50


class ConversationPages(Controller):
    path = "/dashboard/conversations"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def conversations(
        self,
        viewer: Viewer,
        queries: Queries,
        conversations: ConversationQueries,
        phone: str | None = None,
        cursor: str | None = None,
    ) -> Template:
        wanted = (phone or "").strip()[:PHONE_CHARS] or None
        if wanted is not None and not wanted.isprintable():  # no stored phone is
            page = ConversationPage([], None)
        else:
            page = conversations.conversations(viewer.account_id, wanted, None, cursor, PAGE_SIZE)
        next_url = None
        if page.next_cursor:
            query: dict[str, Any] = {"cursor": page.next_cursor}
            if wanted:
                query["phone"] = wanted
            next_url = "/dashboard/conversations/?" + urlencode(query)
        return Template(
            "conversations.html",
            context={
                "account": queries.account(viewer.account_id),
                "conversations": page.conversations,
                "phone": wanted or "",
                "next_url": next_url,
            },
        )

    @get("/{conversation_id:str}", sync_to_thread=True)
    def conversation(
        self,
        conversation_id: str,
        viewer: Viewer,
        queries: Queries,
        conversations: ConversationQueries,
    ) -> Template:
        uuid = ids.parse_public_id(ids.CONVERSATION, conversation_id)
        view = conversations.conversation(viewer.account_id, uuid) if uuid else None
        if view is None:
            raise NotFoundException(f"conversation {conversation_id} not found")
        return Template(
            "conversation.html",
            context={"account": queries.account(viewer.account_id), "conversation": view},
        )
