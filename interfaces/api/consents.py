"""/v1/consents: import opt-ins, read a phone's consent; /v1/account/opt_in_policy: the
account policy "require an opt-in record"."""

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, post, put

from application.consents import MAX_IMPORT_ROWS, Consents, ConsentState, Imported, OptInRow
from interfaces.api.body import validate_body
from interfaces.api.responses import AUTHENTICATED, WITH_BODY, errors


class ImportOptIns(msgspec.Struct, forbid_unknown_fields=True):
    opt_ins: Annotated[
        list[OptInRow],
        msgspec.Meta(
            description=f"1 to {MAX_IMPORT_ROWS} opt-ins, each phone once; all are recorded,"
            " or none (every bad one is listed, by index)"
        ),
    ]


class OptInPolicy(msgspec.Struct, forbid_unknown_fields=True):
    require_opt_in: bool


class ConsentController(Controller):
    path = "/v1"
    tags = ["consents"]

    @post(
        "/consents/import",
        operation_id="importOptIns",
        responses=errors(*WITH_BODY),
        before_request=validate_body(ImportOptIns),
        sync_to_thread=True,
        description="Record opt-ins with their source, evidence and time (`opted_in_at`, RFC"
        " 3339 with its offset, not in the future; default now), in one transaction: every"
        " problem of every row is listed (422, `opt_ins[i].field`) and nothing is recorded."
        " A phone given twice is a problem. A phone that opted out keeps its opt-out (listed"
        " in `kept_opted_out`): only the person opts back in, by texting START.",
    )
    def import_opt_ins(self, data: ImportOptIns, account_id: UUID, consents: Consents) -> Imported:
        return consents.import_opt_ins(account_id, data.opt_ins)

    @get(
        "/consents/{phone:str}",
        operation_id="getConsent",
        responses=errors(*AUTHENTICATED, 422),
        sync_to_thread=True,
        description="The account's consent for a phone now (opted out, opt-in record held)"
        " and its history in the order recorded, each with its source and evidence. A phone"
        " never seen has neither, and an empty history.",
    )
    def consent(self, phone: str, account_id: UUID, consents: Consents) -> ConsentState:
        return consents.state(account_id, phone)

    @get(
        "/account/opt_in_policy",
        operation_id="getOptInPolicy",
        responses=errors(*AUTHENTICATED),
        sync_to_thread=True,
    )
    def policy(self, account_id: UUID, consents: Consents) -> OptInPolicy:
        return OptInPolicy(consents.opt_in_required(account_id))

    @put(
        "/account/opt_in_policy",
        operation_id="setOptInPolicy",
        responses=errors(*WITH_BODY, 404),
        before_request=validate_body(OptInPolicy),
        sync_to_thread=True,
        description="Require an opt-in record before sending (off by default): new campaigns"
        " suppress phones without one (`no_opt_in_count`, `no_opt_in`), single sends to them"
        " are refused (422 `recipient_without_opt_in`). Recorded as an event on the account.",
    )
    def set_policy(self, data: OptInPolicy, account_id: UUID, consents: Consents) -> OptInPolicy:
        consents.require_opt_in(account_id, data.require_opt_in)
        return OptInPolicy(consents.opt_in_required(account_id))
