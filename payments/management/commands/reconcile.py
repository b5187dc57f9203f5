from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments.exceptions import StripeUnavailable
from payments.reconcile import ReconcileReport, reconcile


class Command(BaseCommand):
    help = (
        "Apply the paid or expired Checkout Sessions the webhook missed, retry pending refunds "
        "and session expiries, release holds no open checkout needs, send the waiting e-mails. "
        "Idempotent: schedule it (e.g. every 15 minutes)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since",
            type=float,
            default=72,
            metavar="HOURS",
            help="Look at the Checkout Sessions created in the last HOURS hours (default 72).",
        )

    def handle(self, *args, since: float, **options) -> None:
        if since <= 0:
            raise CommandError("--since must be a positive number of hours.")
        try:
            report = reconcile(since=timedelta(hours=since))
        except StripeUnavailable as error:
            raise CommandError(
                "Stripe could not be reached, no Checkout Session was reconciled (the waiting "
                f"e-mails were sent, the holds of closed orders released): {error}"
            ) from error
        self._print(report, since=since)
        if report.errors:
            raise CommandError(f"Reconcile finished with {len(report.errors)} error(s).")

    def _print(self, report: ReconcileReport, *, since: float) -> None:
        lines = [
            (f"Checkout Sessions seen (last {since:g} h)", report.sessions_seen, []),
            ("Payments applied", len(report.payments_applied), report.payments_applied),
            (
                "Delayed payments now processing",
                len(report.processing_applied),
                report.processing_applied,
            ),
            (
                "Delayed payments refused by the bank",
                len(report.failures_applied),
                report.failures_applied,
            ),
            ("Expiries applied", len(report.expiries_applied), report.expiries_applied),
            (
                "Lost sessions expired",
                len(report.lost_sessions_expired),
                report.lost_sessions_expired,
            ),
            ("Refunds retried", len(report.refunds_retried), report.refunds_retried),
            (
                "Session expiries retried",
                len(report.session_expiries_retried),
                report.session_expiries_retried,
            ),
            (
                "Holds of closed orders released",
                len(report.holds_released),
                report.holds_released,
            ),
            (
                "Pending orders that never got a session, released",
                len(report.sessionless_released),
                report.sessionless_released,
            ),
            ("Invoices issued late", len(report.invoices_issued), report.invoices_issued),
            ("E-mails sent", report.mails_sent, []),
            ("E-mails refused for good", report.mails_refused, []),
            ("Sessions of no order of this shop", len(report.unknown_sessions), []),
            ("Errors", len(report.errors), report.errors),
        ]
        for label, count, details in lines:
            self.stdout.write(f"{label}: {count}")
            for detail in details:
                self.stdout.write(f"  - {detail}")
        if report.errors:
            return
        if report.changed_anything:
            self.stdout.write(self.style.SUCCESS("Reconciled."))
        else:
            self.stdout.write(self.style.SUCCESS("Nothing to reconcile."))
