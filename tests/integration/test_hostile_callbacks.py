"""A signed status callback is still checked: what it records fits the read models."""

from tests.integration.conftest import SendingWorld, Tenant
from tests.integration.test_status_callbacks import callback_params, post_callback, single


def test_callback_fields_are_kept_to_what_the_read_models_hold(
    world: SendingWorld, sender: Tenant
) -> None:
    message = single(world, sender)
    failures = len(world.herald.projector.failures())
    nul = callback_params(
        message, "undelivered", ErrorCode="30005", ErrorMessage="Unknown\x00destination\x07"
    )
    assert post_callback(world, message["message_id"], nul).status_code < 300
    other_digits = callback_params(message, "undelivered", ErrorCode="٣٠٠٠٦", ErrorMessage="x")
    other_digits["MessageSid"] = other_digits["SmsSid"] = "SM\x00" + "0" * 32
    assert post_callback(world, message["message_id"], other_digits).status_code < 300
    # Both are recorded once answered; the read models follow.
    world.herald.projector.catch_up()
    shown = world.http(sender).get(f"/v1/sms/{message['message_id']}").json()
    assert shown["error_message"] == "Unknown\\u0000destination\\u0007"
    assert shown["error_code"] == 30005  # "٣٠٠٠٦" was not read as 30006
    assert shown["twilio_sid"] == message["twilio_sid"]
    assert shown["status"] == "delivered"  # a late undelivered does not undo delivered
    assert len(world.herald.projector.failures()) == failures
