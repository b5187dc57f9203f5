import stripe

SECRET_KEY = "sk_test_offline"
WEBHOOK_SECRET = "whsec_offline_tests"


def verify(delivery: dict) -> stripe.Event:
    """Check a delivery the way the shop's webhook must: signature over the raw body."""
    return stripe.Webhook.construct_event(delivery["body"], delivery["signature"], WEBHOOK_SECRET)
