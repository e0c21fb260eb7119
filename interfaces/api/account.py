"""/v1/account: the calling account's settings (its quiet hours, its answer to HELP)."""

from uuid import UUID

import msgspec
from litestar import Controller, get, patch, put

from application.constraints import ClockTime, MessageBody
from application.directory import Directory
from application.errors import NotFound
from interfaces.api.body import validate_body
from interfaces.api.responses import AUTHENTICATED, WITH_BODY, errors
from projections.conversations import ConversationQueries
from projections.queries import Queries
from projections.views import AccountView


class QuietHoursWindow(msgspec.Struct, forbid_unknown_fields=True):
    start: ClockTime  # in each recipient's local time
    end: ClockTime


class AccountSettings(msgspec.Struct, forbid_unknown_fields=True):
    quiet_hours: QuietHoursWindow | None  # null turns quiet hours off


class HelpText(msgspec.Struct, forbid_unknown_fields=True):
    help_text: MessageBody | None  # null: back to the default


class HelpTextView(msgspec.Struct):
    help_text: str  # what HELP and INFO are answered with


class AccountController(Controller):
    path = "/v1/account"
    tags = ["account"]

    @get(
        "/",
        operation_id="getAccount",
        responses=errors(*AUTHENTICATED, 404),
        sync_to_thread=True,
    )
    def show(self, account_id: UUID, queries: Queries) -> AccountView:
        return _account(queries, account_id)

    @patch(
        "/",
        operation_id="updateAccountSettings",
        responses=errors(*WITH_BODY, 404),
        before_request=validate_body(AccountSettings),
        sync_to_thread=True,
        description="Set the account's quiet hours: a window in each recipient's local time"
        " in which nothing is submitted (default 21:00-09:00), or null to turn them off."
        " Recorded as an event on the account; held messages go when the window ends.",
    )
    def update(
        self, data: AccountSettings, account_id: UUID, directory: Directory, queries: Queries
    ) -> AccountView:
        window = data.quiet_hours
        directory.set_quiet_hours(
            account_id, None if window is None else (window.start, window.end)
        )
        return _account(queries, account_id)

    @get(
        "/help_text",
        operation_id="getHelpText",
        responses=errors(*AUTHENTICATED, 404),
        sync_to_thread=True,
    )
    def help_text(self, account_id: UUID, conversations: ConversationQueries) -> HelpTextView:
        return _help_text(conversations, account_id)

    @put(
        "/help_text",
        operation_id="setHelpText",
        responses=errors(*WITH_BODY, 404),
        before_request=validate_body(HelpText),
        sync_to_thread=True,
        description="What an SMS saying HELP or INFO is answered with (one SMS from the number"
        " it was sent to; never to an opted-out phone). null restores the default, which names"
        " the account and says to reply STOP to opt out. Recorded as an event on the account.",
    )
    def set_help_text(
        self,
        data: HelpText,
        account_id: UUID,
        directory: Directory,
        conversations: ConversationQueries,
    ) -> HelpTextView:
        directory.set_help_text(account_id, data.help_text)
        return _help_text(conversations, account_id)


def _help_text(conversations: ConversationQueries, account_id: UUID) -> HelpTextView:
    text = conversations.help_text(account_id)
    if text is None:  # authenticated, so it exists unless the read models are being rebuilt
        raise NotFound("account not found")
    return HelpTextView(text)


def _account(queries: Queries, account_id: UUID) -> AccountView:
    view = queries.account(account_id)
    if view is None:  # authenticated, so it exists unless the read models are being rebuilt
        raise NotFound("account not found")
    return view
