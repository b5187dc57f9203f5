"""The offline Stripe server (SPEC §9): a Stripe-compatible API and a simulated Checkout page,
mounted at `/_stripe/` and answering only while `settings.STRIPE_OFFLINE` is on.

API (stripe-python with STRIPE_API_BASE = <APP_URL>/_stripe, key STRIPE_SECRET_KEY):
    POST /v1/checkout/sessions              GET /v1/checkout/sessions (created, status, limit,
    GET  /v1/checkout/sessions/<id>             starting_after, ending_before, payment_intent)
    POST /v1/checkout/sessions/<id>/expire  GET /v1/checkout/sessions/<id>/line_items
    GET  /v1/payment_intents/<id>
    POST /v1/refunds    GET /v1/refunds (payment_intent)    GET /v1/refunds/<id>
Page (a session's `url`): GET /pay/<id>/, POST .../payer/ (method=card|sepa_debit),
    .../annuler/, .../virement/reussi/, .../virement/echoue/, .../renvoyer/.

Modules: `params` (Stripe's form encoding), `sessions` and `refunds` (what each call does),
`session_params` (the checks of a new session), `lists` (filters and pagination), `objects`
(JSON shapes), `idempotency`, `events` (signed webhook delivery), `api` and `views` (HTTP),
`testing` (drive the page from tests over HTTP).
"""
