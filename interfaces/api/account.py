"""/v1/account: the calling account's settings (its quiet hours)."""

from uuid import UUID

import msgspec
from litestar import Controller, get, patch

from application.constraints import ClockTime
from application.errors import NotFound
from interfaces.api.body import validate_body
from interfaces.api.responses import AUTHENTICATED, WITH_BODY, errors
from interfaces.bootstrap import Herald
from projections.views import AccountView


class QuietHoursWindow(msgspec.Struct, forbid_unknown_fields=True):
    start: ClockTime  # in each recipient's local time
    end: ClockTime


class AccountSettings(msgspec.Struct, forbid_unknown_fields=True):
    quiet_hours: QuietHoursWindow | None  # null turns quiet hours off


class AccountController(Controller):
    path = "/v1/account"
    tags = ["account"]

    @get(
        "/",
        operation_id="getAccount",
        responses=errors(*AUTHENTICATED, 404),
        sync_to_thread=True,
    )
    def show(self, account_id: UUID, herald: Herald) -> AccountView:
        return _account(herald, account_id)

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
    def update(self, data: AccountSettings, account_id: UUID, herald: Herald) -> AccountView:
        window = data.quiet_hours
        herald.directory.set_quiet_hours(
            account_id, None if window is None else (window.start, window.end)
        )
        return _account(herald, account_id)


def _account(herald: Herald, account_id: UUID) -> AccountView:
    view = herald.queries.account(account_id)
    if view is None:  # authenticated, so it exists unless the read models are being rebuilt
        raise NotFound("account not found")
    return view
