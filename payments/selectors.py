"""Reads of orders: the order a Stripe object names, the pieces a paid order owns, an
order's history, the buyer's view of their order, and the owner's day (what sold, what to
ship, what is held, the withdrawals to refund, what needs a look). No writes, no locks."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.flatpages.models import FlatPage
from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from payments import notifications, withdrawal_period, wording
from payments.documents import DocumentLink, buyer_links
from payments.exceptions import UnknownOrder
from payments.models import Invoice, Order, OrderItem, OutboxMessage, StripeEvent
from products.models import Product, StockStatus
from products.pages import pages_with_placeholders
from products.templatetags.money import euros

# Paid, not yet shipped: the owner's default view of the orders.
TO_SHIP = Q(status=Order.Status.PAID, shipped_at__isnull=True)
STRIPE_CALL_PENDING = Q(refund_pending=True) | Q(session_expiry_pending=True)
CONFLICT = Q(
    status=Order.Status.REFUNDED,
    refund_reason__in=(Order.RefundReason.CONFLICT, Order.RefundReason.AMOUNT_MISMATCH),
)
# Withdrawn by the buyer, not refunded yet: the owner refunds within 14 days (SPEC §12).
WITHDRAWAL_TO_HANDLE = Q(status=Order.Status.PAID, withdrawn_at__isnull=False)


def find_order(*, reference: str = "", session_id: str = "") -> Order:
    """The order with this reference, else the one with this Checkout Session; raises
    UnknownOrder when there is none."""
    order = None
    if reference:
        order = Order.objects.filter(reference=reference).first()
    if order is None and session_id:
        order = Order.objects.filter(stripe_session_id=session_id).first()
    if order is None:
        raise UnknownOrder(reference or session_id or "no order reference")
    return order


def sold_to_paid_order(product_ids: Iterable[int]) -> set[int]:
    """The ids, among these, of pieces that belong to a paid order.

    A piece whose order was refunded without being put back on sale keeps its item's
    `sold` flag until the owner puts it back; it no longer belongs to anyone.
    """
    return set(
        OrderItem.objects.filter(
            product_id__in=list(product_ids), sold=True, order__status=Order.Status.PAID
        ).values_list("product_id", flat=True)
    )


# --- An order's history ---------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One step of an order's history, in the owner's words."""

    at: datetime
    label: str
    detail: str = ""
    event_pk: int | None = None  # the Stripe event it tells of, if any
    url: str = ""  # where the detail leads (the parcel's tracking page)


def order_events(order: Order) -> QuerySet[StripeEvent]:
    """The Stripe events of an order: those linked to it, and those naming its session or
    payment intent (an event whose handling failed may not be linked yet)."""
    stripe_ids = [i for i in (order.stripe_session_id, order.stripe_payment_intent_id) if i]
    return StripeEvent.objects.filter(
        Q(order=order) | Q(payload__data__object__id__in=stripe_ids)
    ).order_by("received_at", "id")


def order_timeline(order: Order) -> list[TimelineEntry]:
    """What happened to an order, oldest first: its creation, payment, shipment, delivery
    and refund, and every Stripe event about it with what came of it, in French (the
    events' stored outcomes stay the services' own, payments/wording.py)."""
    entries = [TimelineEntry(order.created_at, "Commande créée, pièces réservées")]
    if order.paid_at:
        entries.append(TimelineEntry(order.paid_at, "Paiement enregistré, pièces vendues"))
    if order.shipped_at:
        entries.append(
            TimelineEntry(
                order.shipped_at,
                "Expédiée, client prévenu par e-mail",
                f"{order.carrier_name} · suivi {order.tracking_number}",
                url=order.tracking_url,
            )
        )
    if order.delivered_at:
        entries.append(
            TimelineEntry(
                order.delivered_at,
                "Livrée (marquée par la boutique)",
                "Le délai de rétractation court à partir de cette date.",
            )
        )
    if order.withdrawn_at:
        entries.append(TimelineEntry(order.withdrawn_at, "Rétractation reçue du client, en ligne"))
    invoice = Invoice.objects.filter(order=order).only("number", "issued_at").first()
    if invoice is not None:
        entries.append(TimelineEntry(invoice.issued_at, f"Facture {invoice.number} émise"))
    refunds = list(order.refunds.select_related("credit_note"))
    for refund in refunds:
        note = getattr(refund, "credit_note", None)
        what = f"Remboursement de {euros(refund.amount)} décidé"
        if refund.note:
            what += f" ({refund.note})"
        entries.append(TimelineEntry(refund.created_at, what, note.number if note else ""))
        if refund.sent_at:
            entries.append(TimelineEntry(refund.sent_at, "Remboursement accepté par Stripe"))
    if order.refunded_at and not any(refund.sent_at for refund in refunds):
        entries.append(
            TimelineEntry(
                order.refunded_at,
                "Remboursement accepté par Stripe",
                order.get_refund_reason_display(),
            )
        )
    for event in order_events(order):
        detail = wording.event_result(event)
        if event.error:
            detail = f"{detail} (détail technique : {event.error[:200]})"
        entries.append(
            TimelineEntry(event.received_at, wording.event_label(event.type), detail, event.pk)
        )
    return sorted(entries, key=lambda entry: entry.at)


# --- The buyer's order page (SPEC §12) ----------------------------------------------------


@dataclass(frozen=True)
class BuyerStep:
    at: datetime
    label: str


@dataclass(frozen=True)
class BuyerOrder:
    """An order as its buyer sees it: what it is now, in French, and how it got there."""

    order: Order
    items: list[OrderItem]
    status: str
    # How the status is shown: "ok" (paid, on its way), "waiting" (payment, withdrawal being
    # handled), "closed" (refunded, never paid).
    tone: str
    steps: list[BuyerStep]
    refunded: Decimal
    # The withdrawal: whether the buyer may still withdraw, the period's last day (None while
    # the order has not left), and by when the shop refunds a withdrawal received.
    withdrawal_open: bool
    withdrawal_last_day: date | None
    refund_by: date | None
    # The invoice and credit notes, as links under the page's token (payments/documents.py).
    documents: list[DocumentLink] = field(default_factory=list)

    @property
    def partially_refunded(self) -> bool:
        return Decimal("0") < self.refunded < self.paid

    @property
    def paid(self) -> Decimal:
        return self.order.amount_received or self.order.total


def refunded_amount(order: Order) -> Decimal:
    """What the buyer has been refunded so far: the sum of the order's refunds (each one
    decided, in full or in part: payments.Refund). The order page and the thank-you page
    read this one function."""
    refunded = order.refunds.aggregate(total=Sum("amount"))["total"]
    if refunded is not None:
        return refunded
    if order.status == Order.Status.REFUNDED:  # a refund recorded without its row
        return order.amount_received or order.total
    return Decimal("0.00")


def buyer_order(order: Order, *, now: datetime | None = None) -> BuyerOrder:
    now = now or timezone.now()
    refunded = refunded_amount(order)
    window = {"shipped_at": order.shipped_at, "delivered_at": order.delivered_at}
    last_day = withdrawal_period.last_day(**window, days=settings.WITHDRAWAL_DAYS)
    # A partial refund (a goodwill gesture) leaves the contract, and the right, standing.
    withdrawal_open = (
        order.status == Order.Status.PAID
        and order.withdrawn_at is None
        and withdrawal_period.is_open(**window, days=settings.WITHDRAWAL_DAYS, now=now)
    )
    status, tone = _buyer_status(order, refunded)
    return BuyerOrder(
        order=order,
        items=list(order.items.all()),
        status=status,
        tone=tone,
        steps=_buyer_steps(order),
        refunded=refunded,
        withdrawal_open=withdrawal_open,
        withdrawal_last_day=last_day,
        refund_by=(
            withdrawal_period.refund_deadline(order.withdrawn_at) if order.withdrawn_at else None
        ),
        documents=buyer_links(order),
    )


def _buyer_status(order: Order, refunded: Decimal) -> tuple[str, str]:
    paid = order.amount_received or order.total
    if order.status == Order.Status.REFUNDED or refunded >= paid > 0:
        return "Remboursée", "closed"
    if refunded:
        return "Remboursée partiellement", "waiting"
    if order.status == Order.Status.PAID:
        if order.withdrawn_at:
            return "Rétractation reçue", "waiting"
        if order.delivered_at:
            return "Livrée", "ok"
        if order.shipped_at:
            return "Expédiée", "ok"
        return "Payée", "ok"
    if order.status in Order.OPEN_STATUSES:
        return "En attente de paiement", "waiting"
    return "Non aboutie (aucun paiement)", "closed"


def _buyer_steps(order: Order) -> list[BuyerStep]:
    steps = [BuyerStep(order.created_at, "Commande passée")]
    if order.paid_at:
        steps.append(BuyerStep(order.paid_at, "Paiement reçu"))
    if order.shipped_at:
        steps.append(BuyerStep(order.shipped_at, "Expédiée"))
    if order.delivered_at:
        steps.append(BuyerStep(order.delivered_at, "Livrée"))
    if order.withdrawn_at:
        steps.append(BuyerStep(order.withdrawn_at, "Rétractation reçue"))
    refunds = list(order.refunds.all())
    for refund in refunds:
        steps.append(BuyerStep(refund.created_at, f"Remboursement de {euros(refund.amount)}"))
    if order.refunded_at and not refunds:
        steps.append(BuyerStep(order.refunded_at, "Remboursée"))
    return sorted(steps, key=lambda step: step.at)


def confirmation_state(order: Order) -> str:
    """Where the buyer's confirmation e-mail is: "sent", "waiting" (in the outbox, or refused
    by the mail server and waiting for the owner) or "" (none: not paid, or no e-mail known)."""
    status = (
        OutboxMessage.objects.filter(key=notifications.confirmation_key(order.reference))
        .values_list("status", flat=True)
        .first()
    )
    if status is None:
        return ""
    return "sent" if status == OutboxMessage.Status.SENT else "waiting"


# --- The owner's day ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sales:
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Dashboard:
    today: Sales
    month: Sales
    to_ship: int
    held: list[Product]
    refunds_this_month: int
    stripe_calls_pending: int
    conflicts: int
    withdrawals_to_handle: int
    withdrawals_overdue: int


def day_start(now: datetime) -> datetime:
    """Midnight of `now`'s day, in the shop's time zone."""
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def month_start(now: datetime) -> datetime:
    return day_start(now).replace(day=1)


def next_month_start(now: datetime) -> datetime:
    start = month_start(now)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def paid_since(start: datetime) -> QuerySet[Order]:
    """Sales since `start`: orders paid then and still paid (a refunded one is no sale)."""
    return Order.objects.filter(status=Order.Status.PAID, paid_at__gte=start)


def _sales(orders: QuerySet[Order]) -> Sales:
    figures = orders.aggregate(count=Count("pk"), amount=Sum("total"))
    return Sales(count=figures["count"], amount=figures["amount"] or Decimal("0.00"))


def held_pieces() -> list[Product]:
    """Pieces an open checkout holds right now, soonest to lapse first, with their order."""
    return list(
        Product.objects.with_status()
        .filter(stock_status=StockStatus.RESERVED)
        .select_related("held_by")
        .order_by("held_until", "pk")
    )


def dashboard(*, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    this_month = month_start(now)
    return Dashboard(
        today=_sales(paid_since(day_start(now))),
        month=_sales(paid_since(this_month)),
        to_ship=Order.objects.filter(TO_SHIP).count(),
        held=held_pieces(),
        refunds_this_month=Order.objects.filter(
            status=Order.Status.REFUNDED, refunded_at__gte=this_month
        ).count(),
        stripe_calls_pending=Order.objects.filter(STRIPE_CALL_PENDING).count(),
        conflicts=Order.objects.filter(CONFLICT).count(),
        **_withdrawals_to_handle(now),
    )


def _withdrawals_to_handle(now: datetime) -> dict[str, int]:
    figures = Order.objects.filter(WITHDRAWAL_TO_HANDLE).aggregate(
        to_handle=Count("pk"), overdue=Count("pk", filter=withdrawal_overdue(now))
    )
    return {
        "withdrawals_to_handle": figures["to_handle"],
        "withdrawals_overdue": figures["overdue"],
    }


def withdrawal_overdue(now: datetime) -> Q:
    """Withdrawals whose refund deadline (the withdrawal's day + 14, Paris) has passed."""
    today = withdrawal_period.paris_day(now)
    earliest_in_time = today - timedelta(days=withdrawal_period.REFUND_DAYS)
    return Q(withdrawn_at__lt=withdrawal_period.day_starts_at(earliest_in_time))


# --- What the owner must settle before opening (SPEC §12) -----------------------------------


@dataclass(frozen=True)
class ToSettle:
    """Something missing for the shop to sell lawfully: what, and what to do about it."""

    what: str
    todo: str
    link: str = ""
    link_label: str = ""


def opening_checklist() -> list[ToSettle]:
    """What the owner must still settle: the seller's identity, where they are told of sales,
    the mediator, the legal pages' placeholders, the CGV's word on the online withdrawal."""
    found: list[ToSettle] = []
    where = "dans la configuration de votre hébergeur (ses « variables d'environnement »)"
    for setting, what, why in SELLER_SETTINGS:
        if not getattr(settings, setting).strip():
            found.append(ToSettle(what, f"Indiquez-le {where} : {setting}. {why}"))
    if not (settings.MEDIATOR_NAME.strip() or settings.MEDIATOR_URL.strip()):
        found.append(
            ToSettle(
                "Aucun médiateur de la consommation",
                "Vendre à des particuliers oblige à adhérer à un médiateur de la consommation : "
                f"adhérez-en à un, puis indiquez son nom et son site {where} : MEDIATOR_NAME "
                "et MEDIATOR_URL. Ils figurent dans les e-mails de confirmation.",
            )
        )
    for page in pages_with_placeholders():
        count = len(page.placeholders)
        found.append(
            ToSettle(
                f"La page « {page.page.title} » contient encore "
                + ("un passage" if count == 1 else f"{count} passages")
                + " à compléter",
                f"Remplacez ce qui est entre crochets ({', '.join(page.placeholders[:3])}"
                + ("…" if count > 3 else "")
                + ") par vos informations.",
                _page_admin_url(page.page.pk),
                "Compléter la page",
            )
        )
    cgv = FlatPage.objects.filter(url=CGV_URL, sites=settings.SITE_ID).first()
    if cgv is not None and WITHDRAWAL_PATH not in cgv.content:
        found.append(
            ToSettle(
                "Vos conditions générales de vente ne disent pas où se rétracter en ligne",
                "La loi demande d'indiquer où se trouve la rétractation en ligne. Ajoutez au "
                "paragraphe sur le droit de rétractation : « Vous pouvez également exercer votre "
                "droit de rétractation en ligne sur notre site, par le lien [« Renoncer au "
                "contrat ici »](/retractation/) présent en bas de chaque page et sur la page de "
                "suivi de votre commande. Si vous utilisez cette fonctionnalité en ligne, nous "
                "vous enverrons, dans les meilleurs délais, un accusé de réception de la "
                "rétractation sur un support durable (par exemple, par courriel), y compris son "
                "contenu ainsi que la date et l'heure de sa soumission. »",
                _page_admin_url(cgv.pk),
                "Modifier les conditions générales de vente",
            )
        )
    return found


SELLER_SETTINGS = [
    (
        "SELLER_NAME",
        "Le nom du vendeur n'est pas renseigné",
        "Votre nom suivi de « EI » pour un entrepreneur individuel, ou votre raison sociale : "
        "il figure dans chaque confirmation de commande.",
    ),
    (
        "SELLER_ADDRESS",
        "L'adresse du vendeur n'est pas renseignée",
        "Elle figure dans chaque confirmation de commande, et c'est là que les clients "
        "renvoient une pièce après une rétractation.",
    ),
    (
        "SELLER_SIREN",
        "Le numéro SIREN n'est pas renseigné",
        "Votre SIREN ou votre SIRET figure dans chaque confirmation de commande.",
    ),
    (
        "OWNER_EMAIL",
        "Aucune adresse e-mail pour vous prévenir",
        "Sans elle, vous n'êtes prévenu ni des ventes, ni des rétractations, ni des incidents.",
    ),
]
CGV_URL = "/pages/cgv/"
WITHDRAWAL_PATH = "/retractation/"


def _page_admin_url(pk: int) -> str:
    return reverse("admin:flatpages_flatpage_change", args=[pk])
