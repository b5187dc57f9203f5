"""Mounted at `/_stripe/` (shop/urls.py). Every view answers 404 unless
`settings.STRIPE_OFFLINE` is on when the request arrives."""

from django.urls import path

from payments.offline import api, views

app_name = "stripe_offline"

urlpatterns = [
    # The Stripe API, as stripe-python calls it with STRIPE_API_BASE = <APP_URL>/_stripe.
    path("v1/checkout/sessions", api.checkout_sessions, name="sessions"),
    path("v1/checkout/sessions/<str:session_id>", api.checkout_session, name="session"),
    path(
        "v1/checkout/sessions/<str:session_id>/expire",
        api.checkout_session_expire,
        name="session-expire",
    ),
    path(
        "v1/checkout/sessions/<str:session_id>/line_items",
        api.checkout_session_line_items,
        name="session-line-items",
    ),
    path("v1/payment_intents/<str:intent_id>", api.payment_intent, name="payment-intent"),
    path("v1/refunds", api.refunds, name="refunds"),
    path("v1/refunds/<str:refund_id>", api.refund, name="refund"),
    path("v1/<path:rest>", api.unrecognized),
    # The hosted payment page (a session's `url`).
    path("pay/<str:session_id>/", views.pay_page, name="pay"),
    path("pay/<str:session_id>/payer/", views.pay, name="pay-submit"),
    path("pay/<str:session_id>/annuler/", views.cancel, name="cancel"),
    path(
        "pay/<str:session_id>/virement/reussi/",
        views.settle_transfer,
        {"succeeded": True},
        name="transfer-succeeded",
    ),
    path(
        "pay/<str:session_id>/virement/echoue/",
        views.settle_transfer,
        {"succeeded": False},
        name="transfer-failed",
    ),
    path("pay/<str:session_id>/renvoyer/", views.resend_events, name="resend"),
]
