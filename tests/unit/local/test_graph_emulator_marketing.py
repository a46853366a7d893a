"""The emulator keeps the business account's templates and applies Meta's rules to marketing ones:
accepted, then failed with 131049 for a US number and 131050 for a customer who stopped promotions;
a customer's "Stop promotions" is Meta's user_preferences webhook, signed."""

from __future__ import annotations

from typing import Any

from tests.unit.local import test_graph_emulator as base
from tests.unit.local.test_graph_emulator import NUMBER_ID, Client, WebhookReceiver, signed_by_app_secret

clock, receiver, emulator, client = base.clock, base.receiver, base.emulator, base.client

WABA = "1234567890987654"
MEXICAN = "5215550001111"
AMERICAN = "15551234567"
CANADIAN = "14165550100"


def template(name: str, to: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {"name": name, "language": {"code": "en"}},
    }


def status_of(receiver: WebhookReceiver, sent: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    """The first status webhook about the message ``sent`` (others' statuses are passed over)."""
    assert sent[0] == 200
    message_id = sent[1]["messages"][0]["id"]
    while True:
        delivery = receiver.next()
        assert signed_by_app_secret(delivery)
        status = delivery.json()["entry"][0]["changes"][0]["value"]["statuses"][0]
        if status["id"] == message_id:
            return status


def test_the_accounts_templates_are_listed_with_their_category(emulator, client: Client) -> None:
    emulator.register_template(WABA, "spring_sale", "en", "MARKETING")
    emulator.register_template(WABA, "order_update", "en", "UTILITY")
    status, body = client.json("GET", f"/v21.0/{WABA}/message_templates?name=spring_sale")
    assert status == 200
    assert [(t["name"], t["language"], t["status"], t["category"]) for t in body["data"]] == [
        ("spring_sale", "en", "APPROVED", "MARKETING")
    ]
    assert client.json("GET", f"/v21.0/{WABA}/message_templates", token="wrong")[0] == 401


def test_a_marketing_template_to_a_us_number_is_accepted_then_failed_with_131049(
    emulator, client: Client, receiver: WebhookReceiver
) -> None:
    emulator.register_template(WABA, "spring_sale", "en", "MARKETING")
    failed = status_of(receiver, client.send(template("spring_sale", AMERICAN)))
    assert (failed["status"], failed["errors"][0]["code"]) == ("failed", 131049)
    # A Canadian +1 number and a utility template to a US number are delivered
    emulator.register_template(WABA, "order_update", "en", "UTILITY")
    for name, to in (("spring_sale", CANADIAN), ("order_update", AMERICAN)):
        assert status_of(receiver, client.send(template(name, to)))["status"] == "sent"


def test_stop_promotions_posts_the_webhook_and_meta_refuses_marketing_after_it(
    emulator, client: Client, receiver: WebhookReceiver
) -> None:
    emulator.register_template(WABA, "spring_sale", "en", "MARKETING")
    emulator.send_user_preference(NUMBER_ID, MEXICAN, "stop")
    delivery = receiver.next()
    assert signed_by_app_secret(delivery)
    change = delivery.json()["entry"][0]["changes"][0]
    assert change["field"] == "user_preferences"
    (preference,) = change["value"]["user_preferences"]
    assert (preference["wa_id"], preference["category"], preference["value"]) == (
        MEXICAN,
        "marketing_messages",
        "stop",
    )
    assert status_of(receiver, client.send(template("spring_sale", MEXICAN)))["errors"][0]["code"] == 131050
    # Taken back, the offers are delivered again
    emulator.send_user_preference(NUMBER_ID, MEXICAN, "resume")
    receiver.next()
    assert status_of(receiver, client.send(template("spring_sale", MEXICAN)))["status"] == "sent"
