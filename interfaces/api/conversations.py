"""/v1/conversations: the calling account's conversations, and each one's thread."""

from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.params import Parameter

from application.constraints import LINE_PATTERN
from application.errors import NotFound, ValidationFailed
from application.fields import text_problems
from domain import ids
from domain.conversation import PHONE_CHARS
from domain.text import escaped
from interfaces.api.responses import AUTHENTICATED, errors
from projections.conversations import ConversationDetailView, ConversationPage, ConversationQueries

Limit = Annotated[int, Parameter(ge=1, le=1000)]
# What a filter may be (checked by the controller, published here): what a stored phone or
# sender number can be, printable and not blank.
Filter = Annotated[str, Parameter(min_length=1, max_length=PHONE_CHARS, pattern=LINE_PATTERN)]


class ConversationController(Controller):
    path = "/v1/conversations"
    tags = ["conversations"]

    @get(
        "/",
        operation_id="listConversations",
        responses=errors(*AUTHENTICATED, 422),
        sync_to_thread=True,
        description="The account's conversations (one per sender number and phone that wrote"
        " to it), newest activity first; `phone=` and `number=` filter them.",
    )
    def list(
        self,
        account_id: UUID,
        conversations: ConversationQueries,
        phone: Filter | None = None,
        number: Filter | None = None,
        cursor: str | None = None,
        limit: Limit = 100,
    ) -> ConversationPage:
        errors = [
            found
            for field, value in (("phone", phone), ("number", number))
            if value is not None
            for found in text_problems(field, value, PHONE_CHARS)
        ]
        if errors:
            raise ValidationFailed("invalid filter", errors)
        return conversations.conversations(account_id, phone, number, cursor, limit)

    @get(
        "/{conversation_id:str}",
        operation_id="getConversation",
        responses=errors(*AUTHENTICATED, 404, 422),
        sync_to_thread=True,
        description="A conversation and its thread: the messages sent from the number to the"
        " phone and the ones received from it, in time order (the newest 1,000).",
    )
    def read(
        self, conversation_id: str, account_id: UUID, conversations: ConversationQueries
    ) -> ConversationDetailView:
        uuid = ids.parse_public_id(ids.CONVERSATION, conversation_id)
        view = conversations.conversation(account_id, uuid) if uuid else None
        if view is None:
            raise NotFound(f"conversation {escaped(conversation_id)} not found")
        return view
