import secrets
from decimal import Decimal

from django.db import models
from django.db.models import Q

from payments.carriers import Carrier
from payments.exceptions import IssuedDocumentChanged

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: readable over the phone


def new_reference() -> str:
    return "B-" + "".join(secrets.choice(ALPHABET) for _ in range(8))


def cents(amount: Decimal) -> int:
    """Euros (2 places) in Stripe's smallest currency unit."""
    return int(amount * 100)


class Order(models.Model):
    """One checkout attempt. Its life cycle is SPEC §7; transitions live in services."""

    class Status(models.TextChoices):
        PENDING = "pending", "En attente de paiement"
        PROCESSING = "processing", "Paiement en cours"
        PAID = "paid", "Payée"
        EXPIRED = "expired", "Expirée"
        CANCELLED = "cancelled", "Annulée"
        FAILED = "failed", "Échouée"
        REFUNDED = "refunded", "Remboursée"

    class RefundReason(models.TextChoices):
        CONFLICT = "conflict", "Pièce déjà vendue"
        AMOUNT_MISMATCH = "amount_mismatch", "Montant différent"
        ADMIN = "admin", "Remboursée par la boutique"

    OPEN_STATUSES = (Status.PENDING, Status.PROCESSING)

    reference = models.CharField("référence", max_length=20, unique=True, default=new_reference)
    status = models.CharField(
        "statut", max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    # Money (SPEC §5), decided at Commander: total = items_total + shipping_cost, the
    # amount Stripe must report. Orders from before shipping have items_total = total.
    items_total = models.DecimalField(
        "pièces (€)", max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    shipping_cost = models.DecimalField(
        "livraison (€)", max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    total = models.DecimalField("total (€)", max_digits=10, decimal_places=2)
    currency = models.CharField("devise", max_length=3, default="eur")
    amount_received = models.DecimalField(
        "montant reçu (€)", max_digits=10, decimal_places=2, null=True, blank=True
    )
    currency_received = models.CharField("devise reçue", max_length=3, blank=True)
    # An anonymous random id kept in the shopper's session (cart.cart.shopper_id): it
    # recognises their own checkout without storing the session key itself.
    shopper_id = models.CharField("client (anonyme)", max_length=40, blank=True, db_index=True)
    # A keyed hash (HMAC with SECRET_KEY) of the client address, never the address itself:
    # open checkouts are counted per client across processes (payments.limits).
    client_hash = models.CharField(
        "empreinte de l'adresse du client", max_length=64, blank=True, db_index=True
    )
    stripe_session_id = models.CharField(
        "session de paiement Stripe", max_length=255, unique=True, null=True, blank=True
    )
    checkout_url = models.URLField("page de paiement", max_length=2000, blank=True)
    checkout_expires_at = models.DateTimeField("session valable jusqu'à", null=True, blank=True)
    stripe_payment_intent_id = models.CharField("paiement Stripe", max_length=255, blank=True)
    customer_email = models.EmailField("e-mail du client", blank=True)
    # {"name", "address": {line1, line2, postal_code, city, state, country}, "phone"}
    shipping_address = models.JSONField("adresse de livraison", null=True, blank=True)
    shipped_at = models.DateTimeField("expédiée le", null=True, blank=True)
    # A listed carrier, whose tracking link the shop builds from the number
    # (payments/carriers.py), or « autre »: its name and the link the owner pasted.
    carrier = models.CharField("transporteur", max_length=100, choices=Carrier.choices, blank=True)
    other_carrier = models.CharField("nom du transporteur", max_length=100, blank=True)
    tracking_number = models.CharField("numéro de suivi", max_length=100, blank=True)
    tracking_url = models.URLField("lien de suivi", max_length=500, blank=True)
    # Recorded by the owner (« marquer livrée »); the withdrawal period runs from it, else
    # from `shipped_at` + 7 days (SPEC §12).
    delivered_at = models.DateTimeField("livrée le", null=True, blank=True)
    # The buyer's online withdrawal (SPEC §12): when it was submitted, and the declaration
    # as it was recorded and acknowledged (reference, name, e-mail, pieces, date and time).
    withdrawn_at = models.DateTimeField("rétractation reçue le", null=True, blank=True)
    withdrawal_declaration = models.JSONField("déclaration de rétractation", null=True, blank=True)
    refund_reason = models.CharField(
        "motif du remboursement", max_length=20, choices=RefundReason.choices, blank=True
    )
    stripe_refund_id = models.CharField("remboursement Stripe", max_length=255, blank=True)
    # Calls to Stripe decided in a transaction and made after commit; a failed
    # one stays flagged here until `reconcile` gets it through.
    refund_pending = models.BooleanField("remboursement à envoyer", default=False)
    session_expiry_pending = models.BooleanField("session à expirer", default=False)
    last_error = models.TextField("dernière erreur", blank=True)
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)
    paid_at = models.DateTimeField("payée le", null=True, blank=True)
    refunded_at = models.DateTimeField("remboursée le", null=True, blank=True)

    class Meta:
        verbose_name = "commande"
        verbose_name_plural = "commandes"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["updated_at"],
                condition=Q(refund_pending=True) | Q(session_expiry_pending=True),
                name="order_stripe_call_pending",
            ),
            models.Index(
                fields=["paid_at"],
                condition=Q(status="paid", shipped_at__isnull=True),
                name="order_to_ship",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_paid(self) -> bool:
        return self.status == self.Status.PAID

    @property
    def total_cents(self) -> int:
        return cents(self.total)

    @property
    def shipping_cents(self) -> int:
        return cents(self.shipping_cost)

    @property
    def to_ship(self) -> bool:
        return self.status == self.Status.PAID and self.shipped_at is None

    @property
    def carrier_name(self) -> str:
        """The carrier as the buyer and the owner read it: « Colissimo », or the name the
        owner gave an « autre » one."""
        if self.carrier == Carrier.OTHER:
            return self.other_carrier or Carrier.OTHER.label
        return self.get_carrier_display()


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        "products.Product", on_delete=models.PROTECT, related_name="order_items"
    )
    name = models.CharField("nom", max_length=200)
    price = models.DecimalField("prix payé (€)", max_digits=10, decimal_places=2)
    sold = models.BooleanField("vendue à cette commande", default=False)

    class Meta:
        verbose_name = "ligne"
        verbose_name_plural = "lignes"
        ordering = ["id"]
        constraints = [
            # The database itself refuses a second sale of one piece.
            models.UniqueConstraint(
                fields=["product"], condition=Q(sold=True), name="orderitem_product_sold_once"
            ),
            models.UniqueConstraint(fields=["order", "product"], name="orderitem_once_per_order"),
        ]

    def __str__(self) -> str:
        return self.name


class StripeEvent(models.Model):
    """Every verified Stripe event, recorded once; handled when its effects commit."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", "Reçu"
        PROCESSED = "processed", "Traité"
        IGNORED = "ignored", "Ignoré"
        FAILED = "failed", "Échec"

    stripe_id = models.CharField("événement Stripe", max_length=255, unique=True)
    type = models.CharField("type", max_length=100, db_index=True)
    payload = models.JSONField("contenu")
    received_at = models.DateTimeField("reçu le", auto_now_add=True)
    processed_at = models.DateTimeField("traité le", null=True, blank=True)
    outcome = models.CharField(
        "résultat", max_length=20, choices=Outcome.choices, default=Outcome.RECEIVED
    )
    detail = models.CharField("détail", max_length=255, blank=True)
    error = models.TextField("erreur", blank=True)
    attempts = models.PositiveIntegerField("tentatives", default=0)
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )

    class Meta:
        verbose_name = "événement Stripe"
        verbose_name_plural = "événements Stripe"
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"


class OutboxMessage(models.Model):
    """One e-mail of the outbox (payments/outbox.py): written in the transaction of the
    decision that causes it, then sent, once, by whichever sender claims it first."""

    class Status(models.TextChoices):
        PENDING = "pending", "À envoyer"
        SENT = "sent", "Envoyé"
        REFUSED = "refused", "Refusé"

    # One message per key, ever: queuing it again (an event handled twice) changes nothing.
    key = models.CharField("clé", max_length=200, unique=True)
    to = models.JSONField("destinataires")
    reply_to = models.JSONField("répondre à", default=list, blank=True)
    subject = models.CharField("objet", max_length=255)
    # `<template>.txt` (and `.html` when it exists), rendered when the message is sent.
    template = models.CharField("modèle", max_length=200)
    context = models.JSONField("contenu", default=dict, blank=True)
    # [[maker's dotted path, object id], ...]: each file is made when the message is sent.
    attachments = models.JSONField("pièces jointes", default=list, blank=True)
    order = models.ForeignKey(
        Order,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
        verbose_name="commande",
    )
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.PENDING)
    # Failed sends of this message (the server refused it); a server that does not answer
    # is no fault of the message's and counts none.
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    next_attempt_at = models.DateTimeField("prochain essai", null=True, blank=True)
    # A sender holds the message until then while it sends it.
    claimed_until = models.DateTimeField("en cours d'envoi jusqu'à", null=True, blank=True)
    last_error = models.CharField("dernier problème", max_length=500, blank=True)
    error_detail = models.TextField("détail technique", blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)

    class Meta:
        verbose_name = "e-mail"
        verbose_name_plural = "e-mails"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["id"], condition=Q(status="pending"), name="outbox_pending"),
        ]

    def __str__(self) -> str:
        return self.subject


class Refund(models.Model):
    """One refund of an order (SPEC §5): automatic (a conflict, a wrong amount: always the
    whole payment) or decided by the owner (the whole of what is left, or part of it). The
    sum of an order's refunds never exceeds what was paid (payments/services/refunds.py
    checks it under the order's lock). It reaches Stripe after commit, with its own
    idempotency key; a failed call leaves it `failed` until `reconcile` gets it through."""

    class State(models.TextChoices):
        PENDING = "pending", "À envoyer à Stripe"
        FAILED = "failed", "Non reçu par Stripe, sera relancé"
        SENT = "sent", "Accepté par Stripe"

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="refunds", verbose_name="commande"
    )
    amount = models.DecimalField("montant (€)", max_digits=10, decimal_places=2)
    reason = models.CharField(
        "type", max_length=20, choices=Order.RefundReason.choices, default=Order.RefundReason.ADMIN
    )
    note = models.CharField("motif", max_length=255, blank=True)
    put_back_on_sale = models.BooleanField("pièces remises en vente", default=False)
    # Part of what was left: sent to Stripe with its amount. Otherwise it refunds all that is
    # left of the payment, which Stripe does when no amount is given.
    partial = models.BooleanField("partiel", default=False)
    created_at = models.DateTimeField("décidé le")
    state = models.CharField(
        "état", max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    # The same key for every try of this refund: Stripe refunds it once however often it is
    # sent. Refunds from before partial refunds keep the key they were first sent with.
    idempotency_key = models.CharField("clé d'idempotence", max_length=100, unique=True)
    stripe_refund_id = models.CharField("remboursement Stripe", max_length=255, blank=True)
    sent_at = models.DateTimeField("accepté par Stripe le", null=True, blank=True)
    last_error = models.TextField("dernière erreur", blank=True)

    class Meta:
        verbose_name = "remboursement"
        verbose_name_plural = "remboursements"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Remboursement de {self.amount} €"

    @property
    def amount_cents(self) -> int:
        return cents(self.amount)


class IssuedDocumentQuerySet(models.QuerySet):
    """An issued invoice or credit note is never changed or deleted, not even in bulk."""

    def update(self, **kwargs):
        raise IssuedDocumentChanged("Une pièce comptable émise ne se modifie pas.")

    def delete(self):
        raise IssuedDocumentChanged("Une pièce comptable émise ne se supprime pas.")

    update.alters_data = True
    delete.alters_data = True


class IssuedDocument(models.Model):
    """What an invoice and a credit note share: a number from their kind's yearly counter
    (taken under its lock in the deciding transaction: payments/services/locking.py), the
    date, and a snapshot of everything the document states (seller, buyer, addresses, lines,
    totals, VAT), so that a later change of the settings or of the order alters nothing."""

    number = models.CharField("numéro", max_length=20, unique=True)
    issued_at = models.DateTimeField("date", db_index=True)
    # payments/document_content.py builds it; payments/pdf.py prints it.
    content = models.JSONField("contenu")
    total = models.DecimalField("montant TTC (€)", max_digits=10, decimal_places=2)

    objects = IssuedDocumentQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["issued_at", "number"]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise IssuedDocumentChanged("Une pièce comptable émise ne se modifie pas.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise IssuedDocumentChanged("Une pièce comptable émise ne se supprime pas.")

    save.alters_data = True
    delete.alters_data = True


class Invoice(IssuedDocument):
    """The invoice of a sale (`F-<year>-<NNNNN>`), issued in the sale's transaction."""

    KIND = "F"

    order = models.OneToOneField(
        Order, on_delete=models.PROTECT, related_name="invoice", verbose_name="commande"
    )

    class Meta(IssuedDocument.Meta):
        verbose_name = "facture"
        verbose_name_plural = "factures"


class CreditNote(IssuedDocument):
    """The credit note of a refund of a sale (`A-<year>-<NNNNN>`), naming its invoice and
    carrying the amount refunded; issued in the refund's transaction."""

    KIND = "A"

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="credit_notes", verbose_name="facture"
    )
    refund = models.OneToOneField(
        Refund, on_delete=models.PROTECT, related_name="credit_note", verbose_name="remboursement"
    )

    class Meta(IssuedDocument.Meta):
        verbose_name = "avoir"
        verbose_name_plural = "avoirs"


class DocumentCounter(models.Model):
    """The last number given to a kind of document (F: invoices, A: credit notes) in a year.

    Taken with `INSERT ... ON CONFLICT DO UPDATE SET last = last + 1` in the transaction that
    issues the document: the row stays locked until it commits, so numbers follow each other
    without a gap (a rollback gives the number back) nor a duplicate. A PostgreSQL sequence
    would leave a gap at every rollback."""

    kind = models.CharField("type", max_length=1)
    year = models.PositiveSmallIntegerField("année")
    last = models.PositiveIntegerField("dernier numéro")

    class Meta:
        verbose_name = "compteur de pièces"
        verbose_name_plural = "compteurs de pièces"
        constraints = [
            models.UniqueConstraint(fields=["kind", "year"], name="document_counter_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}-{self.year}: {self.last}"
