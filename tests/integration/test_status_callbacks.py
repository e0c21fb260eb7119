"""Status callbacks: signatures checked like Twilio's, statuses only forward, history kept."""

import httpx
from twilio.request_validator import RequestValidator

from interfaces.settings import SIMULATOR_ACCOUNT_SID, SIMULATOR_AUTH_TOKEN
from tests.integration.conftest import (
    OTHER_TWILIO_SID,
    OTHER_TWILIO_TOKEN,
    SendingWorld,
    Tenant,
    wait_until,
)


def single(world: SendingWorld, tenant: Tenant) -> dict:
    http = world.http(tenant)
    sent = http.post(
        "/v1/sms",
        json={
            "agent_id": tenant.agent_id,
            "to": "+447386172392",
            "from_number": tenant.from_number,
            "message": "hello",
        },
    ).json()
    return wait_until(
        lambda: (
            (m := http.get(f"/v1/sms/{sent['message_id']}").json())["status"] == "delivered" and m
        )
    )


def post_callback(
    world: SendingWorld,
    message_id: str,
    params: dict[str, str],
    token: str = SIMULATOR_AUTH_TOKEN,
    url: str | None = None,
    sign: bool = True,
) -> httpx.Response:
    path = f"/webhooks/twilio/status/{message_id}"
    signed_url = url or world.herald.settings.public_url + path
    headers = (
        {"X-Twilio-Signature": RequestValidator(token).compute_signature(signed_url, params)}
        if sign
        else {}
    )
    return httpx.post(world.api.url + path, data=params, headers=headers)


def callback_params(message: dict, status: str, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": message["twilio_sid"],
        "SmsSid": message["twilio_sid"],
        "AccountSid": SIMULATOR_ACCOUNT_SID,
        "From": message["from_number"],
        "To": message["to"],
        "MessageStatus": status,
        "SmsStatus": status,
        "ApiVersion": "2010-04-01",
        **extra,
    }


def history(world: SendingWorld, message_id: str) -> int:
    with world.herald.pool.connection() as conn:
        row = conn.execute(
            "SELECT callbacks FROM herald.messages WHERE message_id = %s", (message_id[4:],)
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_forged_missing_and_wrong_url_signatures_are_403_and_record_nothing(
    world: SendingWorld, sender: Tenant
) -> None:
    message = single(world, sender)
    before = history(world, message["message_id"])
    params = callback_params(message, "undelivered", ErrorCode="30003")
    assert (
        post_callback(world, message["message_id"], params, token="forged-token").status_code == 403
    )
    assert post_callback(world, message["message_id"], params, sign=False).status_code == 403
    replayed = post_callback(
        world,
        message["message_id"],
        params,
        url="https://elsewhere.example/webhooks/twilio/status/" + message["message_id"],
    )
    assert replayed.status_code == 403
    tampered = {**params, "MessageStatus": "failed"}
    signature = RequestValidator(SIMULATOR_AUTH_TOKEN).compute_signature(
        world.herald.settings.public_url + f"/webhooks/twilio/status/{message['message_id']}",
        params,
    )
    assert (
        httpx.post(
            world.api.url + f"/webhooks/twilio/status/{message['message_id']}",
            data=tampered,
            headers={"X-Twilio-Signature": signature},
        ).status_code
        == 403
    )
    assert history(world, message["message_id"]) == before
    assert (
        world.http(sender).get(f"/v1/sms/{message['message_id']}").json()["status"] == "delivered"
    )


def test_a_callback_with_blank_parameters_is_accepted_as_signed(
    world: SendingWorld, sender: Tenant
) -> None:
    """Twilio posts (and signs) parameters with blank values too, e.g. an empty From."""
    message = single(world, sender)
    before = history(world, message["message_id"])
    params = callback_params(message, "delivered", From="", ErrorCode="")

    assert post_callback(world, message["message_id"], params).status_code == 204
    wait_until(lambda: history(world, message["message_id"]) == before + 1)


def test_callback_for_an_unknown_message_is_404_and_records_nothing(
    world: SendingWorld, sender: Tenant
) -> None:
    message = single(world, sender)
    unknown = "msg_" + "0" * 32
    assert post_callback(world, unknown, callback_params(message, "delivered")).status_code == 404


def test_late_sent_callback_does_not_undo_delivered_but_is_kept(
    world: SendingWorld, sender: Tenant
) -> None:
    message = single(world, sender)
    before = history(world, message["message_id"])
    assert (
        post_callback(world, message["message_id"], callback_params(message, "sent")).status_code
        == 204
    )
    assert (
        post_callback(
            world, message["message_id"], callback_params(message, "delivered")
        ).status_code
        == 204
    )
    wait_until(lambda: history(world, message["message_id"]) == before + 2)
    assert (
        world.http(sender).get(f"/v1/sms/{message['message_id']}").json()["status"] == "delivered"
    )


def test_duplicated_and_reordered_callbacks_from_the_simulator_settle_on_the_final_status(
    world: SendingWorld, sender: Tenant
) -> None:
    world.simulate(duplicate_rate=1.0, reorder=True, outcome_weights={"undelivered": 1.0})
    http = world.http(sender)
    sent = http.post(
        "/v1/sms",
        json={
            "agent_id": sender.agent_id,
            "to": "+447386172392",
            "from_number": sender.from_number,
            "message": "x",
        },
    ).json()
    final = wait_until(
        lambda: (
            (m := http.get(f"/v1/sms/{sent['message_id']}").json())["status"] == "undelivered"
            and history(world, m["message_id"]) >= 4
            and m
        )
    )
    assert final["error_code"] == 30003
    assert final["undelivered_at"] and final["sent_at"]


def test_an_account_with_its_own_twilio_credentials_sends_and_is_verified_with_them(
    world: SendingWorld, sender: Tenant
) -> None:
    world.herald.directory.set_twilio_account(
        sender.account_id, OTHER_TWILIO_SID, OTHER_TWILIO_TOKEN
    )
    message = single(world, sender)  # delivered: callbacks signed with the other token passed
    sent = [m for m in world.sent(sender.from_number) if m["sid"] == message["twilio_sid"]]
    assert sent[0]["account_sid"] == OTHER_TWILIO_SID
    forged = {**callback_params(message, "failed"), "AccountSid": OTHER_TWILIO_SID}
    assert (
        post_callback(world, message["message_id"], forged).status_code == 403
    )  # signed with the default token


def test_a_callback_counts_only_when_signed_by_the_account_that_sent_the_message(
    world: SendingWorld, sender: Tenant
) -> None:
    """Account B has Twilio credentials of its own; A uses the default ones. Each signs a
    callback for the other's message with its own token (and its own AccountSid)."""
    other = Tenant(world.herald)
    world.herald.directory.set_twilio_account(
        other.account_id, OTHER_TWILIO_SID, OTHER_TWILIO_TOKEN
    )
    mine, theirs = single(world, sender), single(world, other)
    before = {m["message_id"]: history(world, m["message_id"]) for m in (mine, theirs)}

    as_other = {
        **callback_params(mine, "undelivered", ErrorCode="30003"),
        "AccountSid": OTHER_TWILIO_SID,
    }
    assert (
        post_callback(world, mine["message_id"], as_other, token=OTHER_TWILIO_TOKEN).status_code
        == 403
    )
    as_default = callback_params(theirs, "undelivered", ErrorCode="30003")
    assert post_callback(world, theirs["message_id"], as_default).status_code == 403

    assert {m: history(world, m) for m in before} == before
    for message, tenant in ((mine, sender), (theirs, other)):
        shown = world.http(tenant).get(f"/v1/sms/{message['message_id']}").json()
        assert shown["status"] == "delivered"

    own = callback_params(mine, "delivered")
    assert post_callback(world, mine["message_id"], own).status_code == 204
    own_other = {**callback_params(theirs, "delivered"), "AccountSid": OTHER_TWILIO_SID}
    assert (
        post_callback(world, theirs["message_id"], own_other, token=OTHER_TWILIO_TOKEN).status_code
        == 204
    )
    wait_until(
        lambda: {m: history(world, m) for m in before} == {m: n + 1 for m, n in before.items()}
    )


def test_an_account_without_a_token_accepts_no_callback(
    world: SendingWorld, sender: Tenant
) -> None:
    """An empty auth token would make any signature made with an empty key valid."""
    message = single(world, sender)
    credentials = world.herald.twilio_credentials
    default = credentials.default
    credentials.default = (default[0], "")
    try:
        params = callback_params(message, "undelivered")
        assert post_callback(world, message["message_id"], params, token="").status_code == 403
    finally:
        credentials.default = default
