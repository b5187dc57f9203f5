import logging
import time

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from payments.notifications import send_pending_sale_mails

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Send the sales' e-mails flagged on orders (the buyer's confirmation, the owner's "
        "note), over one connection per batch. With MAIL_WORKER=on, run it as a worker "
        "(`worker: python manage.py send_mails`); run one, not several."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Send what waits, then exit.")
        parser.add_argument(
            "--interval",
            type=float,
            default=2.0,
            metavar="SECONDS",
            help="Pause when nothing waits (default 2).",
        )
        parser.add_argument("--batch", type=int, default=100, help="Orders per batch.")

    def handle(self, *args, once: bool, interval: float, batch: int, **options) -> None:
        while True:
            try:
                sent = send_pending_sale_mails(limit=batch)
            except Exception:  # the database is away: wait and try again
                logger.exception("Sale e-mails not sent this round")
                close_old_connections()
                sent = []
            if sent:
                logger.info("Sale e-mails sent for %s orders", len(sent))
            if once and len(sent) < batch:
                self.stdout.write(f"Sale e-mails sent: {len(sent)}")
                return
            if len(sent) < batch:
                time.sleep(interval)
