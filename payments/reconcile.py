"""Catch up with Stripe: what the webhook missed, and the Stripe calls that failed.

Stripe retries a webhook for three days, but an endpoint down for longer, a
secret rotated wrongly or a bug can still lose an event. `reconcile` lists the
recent Checkout Sessions and hands any paid or expired one whose order does not
show it yet to `services.apply_checkout_session`, the webhook's own service (and a
delayed payment that failed to `services.apply_async_payment_failed`);
an open session whose order never learnt of it (Stripe's answer to its creation was
lost) is expired; then it sends again the refunds and session expiries flagged on orders
(`refund_pending`, `session_expiry_pending`), and releases the holds still kept
by orders that are no longer open (a payment took one of their pieces and the
process stopped before the others were released), releases the pieces of a `pending` order
that never got its Checkout Session (the process stopped while Stripe was answering), and
issues the invoice of a sale that lacks one (paid by a process still running the code from
before invoices, during a deploy), and sends every e-mail of the outbox that no other sender
holds, whatever its age. Every step is
idempotent, so a second run finds nothing to do.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.timezone import now

from payments import services, stripe_client
from payments.exceptions import StripeUnavailable
from payments.models import Order, OutboxMessage
from payments.services import mail
from payments.services.documents import issue_missing_invoices
from payments.services.release import fail_order
from payments.stripe_shapes import delayed_payment_failed, is_paid, order_reference_of
from products.models import Product

logger = logging.getLogger(__name__)

# What an order already shows once a session's news has reached it.
SETTLED_BY_PAYMENT = (Order.Status.PAID, Order.Status.REFUNDED)
# A pending order still without a Checkout Session this long after Commander will never
# get one: the process that was asking Stripe for it stopped (Stripe's answer takes at most
# stripe_client.BUDGET_SECONDS, and the worker is stopped at 30 s).
SESSION_NEVER_CREATED = timedelta(minutes=5)


@dataclass
class ReconcileReport:
    """What one run saw and did: order references (payments with their outcome,
    e.g. `B-... (refunded (conflict))`), unknown session ids, error lines."""

    sessions_seen: int = 0
    payments_applied: list[str] = field(default_factory=list)
    processing_applied: list[str] = field(default_factory=list)
    failures_applied: list[str] = field(default_factory=list)
    expiries_applied: list[str] = field(default_factory=list)
    lost_sessions_expired: list[str] = field(default_factory=list)
    refunds_retried: list[str] = field(default_factory=list)
    session_expiries_retried: list[str] = field(default_factory=list)
    holds_released: list[str] = field(default_factory=list)
    sessionless_released: list[str] = field(default_factory=list)
    invoices_issued: list[str] = field(default_factory=list)
    mails_sent: int = 0
    mails_refused: int = 0
    unknown_sessions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return bool(
            self.payments_applied
            or self.processing_applied
            or self.failures_applied
            or self.expiries_applied
            or self.lost_sessions_expired
            or self.refunds_retried
            or self.session_expiries_retried
            or self.holds_released
            or self.sessionless_released
            or self.invoices_issued
            or self.mails_sent
            or self.mails_refused
        )


def reconcile(*, since: timedelta) -> ReconcileReport:
    """Apply the Checkout Sessions created in the last `since` that the shop missed, then
    retry every pending refund and session expiry and release the holds of closed orders.

    Raises StripeUnavailable (payments.exceptions) when the sessions cannot be listed (after
    the steps that need no Stripe: holds released, e-mails sent); a failure on one session or
    one order is recorded in the report and the run goes on.
    """
    report = ReconcileReport()
    _release_orders_without_session(report)
    created_after = int(time.time() - since.total_seconds())
    try:
        sessions = stripe_client.list_checkout_sessions(created_after=created_after)
    except StripeUnavailable:
        _release_stranded_holds(report)
        _issue_missing_invoices(report)
        send_waiting_mails(report)
        raise
    report.sessions_seen = len(sessions)
    orders = _orders_of(sessions)
    for session in sessions:
        _reconcile_session(session, orders, report)
    _retry_pending_calls(report)
    _release_stranded_holds(report)
    _issue_missing_invoices(report)
    send_waiting_mails(report)
    logger.info(
        "Reconcile done: %s sessions, %s payments, %s expiries, %s refunds retried, %s errors",
        report.sessions_seen,
        len(report.payments_applied),
        len(report.expiries_applied),
        len(report.refunds_retried),
        len(report.errors),
    )
    return report


def _orders_of(sessions: list[dict[str, Any]]) -> dict[str, Order]:
    """The shop's orders named by these sessions, by reference and by session id (one query)."""
    references = {order_reference_of(s) for s in sessions} - {""}
    session_ids = {s.get("id") or "" for s in sessions} - {""}
    found: dict[str, Order] = {}
    for order in Order.objects.filter(
        Q(reference__in=references) | Q(stripe_session_id__in=session_ids)
    ):
        found[order.reference] = order
        if order.stripe_session_id:
            found[order.stripe_session_id] = order
    return found


def _order_for(session: dict[str, Any], orders: dict[str, Order]) -> Order | None:
    return orders.get(order_reference_of(session)) or orders.get(session.get("id") or "")


def needs_applying(session: dict[str, Any], order: Order) -> bool:
    """Whether the order does not show yet what the session says."""
    status = session.get("status")
    if status == "complete" and is_paid(session):
        if order.status == Order.Status.REFUNDED and not order.stripe_payment_intent_id:
            # Refunded before the payment's id was known: the session supplies it.
            return bool(session.get("payment_intent"))
        return order.status not in SETTLED_BY_PAYMENT
    if delayed_payment_failed(session):
        return order.status in Order.OPEN_STATUSES
    if status == "complete":
        # Completed unpaid (a delayed method): the order waits for the bank as `processing`.
        return order.status == Order.Status.PENDING
    if status == "expired":
        return order.status == Order.Status.PENDING
    if status == "open":
        # Stripe created it, but its answer never reached the shop, which gave the order up.
        return order.status != Order.Status.PENDING and not order.stripe_session_id
    return False


def _reconcile_session(
    session: dict[str, Any], orders: dict[str, Order], report: ReconcileReport
) -> None:
    session_id = session.get("id") or "?"
    order = _order_for(session, orders)
    if order is None:
        # Another shop on the same Stripe account, or a session made by hand.
        report.unknown_sessions.append(session_id)
        logger.info("Checkout Session names no order of this shop", extra={"session": session_id})
        return
    if not needs_applying(session, order):
        return
    if delayed_payment_failed(session):
        apply = services.apply_async_payment_failed
    elif session.get("status") == "open":
        apply = services.expire_lost_session
    else:
        apply = services.apply_checkout_session
    try:
        order, outcome = apply(session)
    except Exception as error:  # one bad session must not stop the others
        report.errors.append(f"{order.reference} ({session_id}): {error}")
        logger.exception(
            "Reconcile could not apply a Checkout Session",
            extra={"order": order.reference, "session": session_id},
        )
        return
    logger.warning(
        "Reconcile applied a Checkout Session the webhook missed: %s",
        outcome,
        extra={"order": order.reference, "session": session_id},
    )
    if outcome == "paid" or outcome.startswith("refunded"):
        report.payments_applied.append(f"{order.reference} ({outcome})")
    elif outcome == "processing":
        report.processing_applied.append(order.reference)
    elif outcome == f"released ({Order.Status.FAILED})":
        report.failures_applied.append(order.reference)
    elif outcome.startswith("released"):
        report.expiries_applied.append(order.reference)
    elif outcome == "lost session expired":
        report.lost_sessions_expired.append(order.reference)


def _retry_pending_calls(report: ReconcileReport) -> None:
    pending = Order.objects.filter(Q(refund_pending=True) | Q(session_expiry_pending=True))
    for order in pending.order_by("pk"):
        if order.refund_pending:
            _retry(services.refund_now, order, "refund", report.refunds_retried, report)
        if order.session_expiry_pending:
            _retry(
                services.expire_session_now,
                order,
                "session expiry",
                report.session_expiries_retried,
                report,
            )


def _retry(call, order: Order, what: str, done: list[str], report: ReconcileReport) -> None:
    try:
        ok = call(order_id=order.pk)
    except Exception as error:  # same: the next order still gets its turn
        logger.exception("Reconcile could not retry a %s", what, extra={"order": order.reference})
        ok, reason = False, str(error)
    else:
        reason = "Stripe did not accept it; see the order's last error"
    if ok:
        done.append(order.reference)
    else:
        report.errors.append(f"{order.reference}: {what} still pending ({reason})")


def _issue_missing_invoices(report: ReconcileReport) -> None:
    """Sales a process running the code from before invoices made during a deploy: their
    invoices, before their confirmations are sent (which attach them)."""
    try:
        report.invoices_issued += issue_missing_invoices()
    except Exception as error:  # the e-mails still go
        logger.exception("Reconcile could not issue the missing invoices")
        report.errors.append(f"invoices not issued ({error})")


def send_waiting_mails(report: ReconcileReport) -> None:
    """Every e-mail of the outbox that no other sender holds, whatever its age or its next
    try: the worker that was to send it after the response stopped, the mail server was
    down, no `send_mails` runs. Runs without Stripe too (a failed listing of the sessions
    still sends them: `reconcile` calls it in that case)."""
    try:
        sent = mail.send_pending(timeout=settings.EMAIL_TIMEOUT, due_only=False)
    except Exception as error:
        logger.exception("Reconcile could not send the waiting e-mails")
        report.errors.append(f"e-mails not sent ({error})")
        return
    report.mails_sent += len(sent.sent)
    report.mails_refused += len(sent.refused)
    if sent.server_error:
        waiting = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).count()
        report.errors.append(
            f"mail server unavailable, {waiting} e-mail(s) wait ({sent.server_error})"
        )


def _release_orders_without_session(report: ReconcileReport) -> None:
    """Pending orders that never got their Checkout Session: the process creating it stopped
    (killed at its timeout, a deploy) before it could record the session or fail the order.
    Their pieces go back on sale; a session Stripe did create is expired by the next run (an
    open session of an order that is no longer pending)."""
    stale = Order.objects.filter(
        status=Order.Status.PENDING,
        checkout_url="",
        created_at__lt=now() - SESSION_NEVER_CREATED,
    ).values_list("pk", "reference")
    for order_id, reference in stale.order_by("pk"):
        try:
            fail_order(
                order_id=order_id, error="Session de paiement jamais créée (processus arrêté)."
            )
        except Exception as error:  # the next order still gets its turn
            logger.exception("Reconcile could not release an order", extra={"order": reference})
            report.errors.append(f"{reference}: holds not released ({error})")
        else:
            report.sessionless_released.append(reference)


def _release_stranded_holds(report: ReconcileReport) -> None:
    """Closing an order releases its holds, except the pieces a payment did not take from
    it: those are released after commit (services.payment._take_holds_from). A process stopped in
    between leaves them held by a closed order, for up to a delayed payment's 14 days."""
    stranded = (
        Product.objects.filter(held_by__isnull=False, held_until__gt=Now())
        .exclude(held_by__status__in=Order.OPEN_STATUSES)
        .values_list("held_by_id", "held_by__reference")
        .distinct()
    )
    for order_id, reference in sorted(stranded):
        try:
            services.release_leftover_holds(order_id=order_id)
        except Exception as error:  # the next order still gets its turn
            logger.exception("Reconcile could not release holds", extra={"order": reference})
            report.errors.append(f"{reference}: holds not released ({error})")
        else:
            report.holds_released.append(reference)
