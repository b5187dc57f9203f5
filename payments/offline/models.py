"""State of the offline Stripe server, kept in the database so that it survives restarts
and serves several processes. Ids and timestamps follow Stripe (`cs_test_...`, Unix seconds).

These rows stand for Stripe's side of the world: the shop never reads them, it asks the API.
"""

import secrets
import string
import time

from django.db import models

_ID_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """A Stripe-looking id, e.g. `new_id("pi")` -> `pi_3Nf...`."""
    return prefix + "_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def now() -> int:
    """Stripe's time: Unix seconds."""
    return int(time.time())


def new_session_id() -> str:
    return new_id("cs_test", 58)


def new_payment_intent_id() -> str:
    return new_id("pi")


def new_refund_id() -> str:
    return new_id("re")


def new_event_id() -> str:
    return new_id("evt")


class PaymentIntent(models.Model):
    class Status(models.TextChoices):
        PROCESSING = "processing", "En cours (paiement différé)"
        SUCCEEDED = "succeeded", "Réussi"
        REQUIRES_PAYMENT_METHOD = "requires_payment_method", "Échoué"

    stripe_id = models.CharField(max_length=64, unique=True, default=new_payment_intent_id)
    status = models.CharField(max_length=32, choices=Status.choices)
    amount = models.PositiveBigIntegerField()
    amount_received = models.PositiveBigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    payment_method_type = models.CharField(max_length=32, default="card")
    metadata = models.JSONField(default=dict)
    description = models.TextField(null=True, blank=True)
    receipt_email = models.CharField(max_length=512, null=True, blank=True)
    created = models.PositiveBigIntegerField()

    class Meta:
        verbose_name = "PaymentIntent simulé"
        verbose_name_plural = "PaymentIntents simulés"

    def __str__(self) -> str:
        return self.stripe_id


class CheckoutSession(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Ouverte"
        COMPLETE = "complete", "Terminée"
        EXPIRED = "expired", "Expirée"

    class PaymentStatus(models.TextChoices):
        UNPAID = "unpaid", "Non payée"
        PAID = "paid", "Payée"

    stripe_id = models.CharField(max_length=80, unique=True, default=new_session_id)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    payment_status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    mode = models.CharField(max_length=16, default="payment")
    currency = models.CharField(max_length=3)
    amount_subtotal = models.PositiveBigIntegerField()
    amount_total = models.PositiveBigIntegerField()
    # Normalised lines: [{"id", "description", "quantity", "unit_amount", "currency",
    # "price_id", "product_id", "product_data": {...}, "metadata": {...}}, ...]
    line_items = models.JSONField(default=list)
    url = models.TextField(help_text="Absolute URL of the hosted payment page.")
    success_url = models.TextField()
    cancel_url = models.TextField(null=True, blank=True)
    client_reference_id = models.CharField(max_length=200, null=True, blank=True)
    customer_email = models.CharField(max_length=512, null=True, blank=True)
    customer_details = models.JSONField(null=True, blank=True)
    shipping_details = models.JSONField(null=True, blank=True)
    shipping_address_collection = models.JSONField(null=True, blank=True)
    phone_number_collection = models.BooleanField(default=False)
    # Inline shipping rates, as created from `shipping_options[i][shipping_rate_data]`:
    # [{"shipping_amount": 800, "shipping_rate": {<a shipping_rate object>}}]. The first
    # one is the shopper's choice: its amount is in `amount_total`.
    shipping_options = models.JSONField(default=list)
    metadata = models.JSONField(default=dict)
    payment_intent_data = models.JSONField(default=dict)
    locale = models.CharField(max_length=16, null=True, blank=True)
    payment_intent = models.OneToOneField(
        PaymentIntent, on_delete=models.PROTECT, null=True, blank=True, related_name="session"
    )
    created = models.PositiveBigIntegerField(db_index=True)
    expires_at = models.PositiveBigIntegerField(db_index=True)

    class Meta:
        verbose_name = "Checkout Session simulée"
        verbose_name_plural = "Checkout Sessions simulées"
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.stripe_id


class Refund(models.Model):
    stripe_id = models.CharField(max_length=64, unique=True, default=new_refund_id)
    payment_intent = models.ForeignKey(
        PaymentIntent, on_delete=models.PROTECT, related_name="refunds"
    )
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=32, null=True, blank=True)
    status = models.CharField(max_length=16, default="succeeded")
    metadata = models.JSONField(default=dict)
    created = models.PositiveBigIntegerField(db_index=True)

    class Meta:
        verbose_name = "remboursement simulé"
        verbose_name_plural = "remboursements simulés"
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.stripe_id


class IdempotencyKey(models.Model):
    """The saved result of a POST sent with an `Idempotency-Key`, replayed on a retry."""

    key = models.CharField(max_length=255, unique=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    params = models.JSONField()
    # Filled in the transaction that inserts the row: a committed key always has its result.
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "clé d'idempotence"
        verbose_name_plural = "clés d'idempotence"

    def __str__(self) -> str:
        return self.key


class Event(models.Model):
    """A webhook event, recorded with the change it reports and delivered after commit.

    `payload` is the exact JSON text sent (each delivery signs it afresh), so an event
    that failed to arrive can be sent again unchanged.
    """

    stripe_id = models.CharField(max_length=64, unique=True, default=new_event_id)
    type = models.CharField(max_length=100)
    payload = models.TextField()
    session = models.ForeignKey(
        CheckoutSession, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    created = models.PositiveBigIntegerField()
    webhook_url = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = "événement simulé"
        verbose_name_plural = "événements simulés"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"
