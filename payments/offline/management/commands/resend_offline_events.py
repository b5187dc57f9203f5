"""Send again the offline Stripe events that the shop's webhook did not accept."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments.offline.events import WEBHOOK_PATH, deliver_events, undelivered_events
from payments.offline.models import Event


class Command(BaseCommand):
    help = (
        "Resend the offline Stripe server's undelivered webhook events (freshly signed), "
        "oldest first, to the URL each was sent to or to --url."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", help="webhook URL (default: where each event was sent)")
        parser.add_argument(
            "--all",
            action="store_true",
            dest="resend_all",
            help="also resend delivered events (duplicates)",
        )

    def handle(self, *args, url: str | None, resend_all: bool, **options) -> None:
        if not settings.STRIPE_OFFLINE:
            raise CommandError("STRIPE_OFFLINE is off: there is no offline Stripe server.")
        events = list(Event.objects.order_by("id")) if resend_all else undelivered_events()
        default_url = f"{settings.APP_URL}{WEBHOOK_PATH}"
        delivered = 0
        for event in events:
            (delivery,) = deliver_events([event], url=url or event.webhook_url or default_url)
            delivered += delivery.ok
            self.stdout.write(
                f"{event.stripe_id} {event.type}: "
                + ("delivered" if delivery.ok else f"failed ({delivery.error})")
            )
        self.stdout.write(f"{delivered} of {len(events)} event(s) delivered.")
