import logging
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections

from payments.services import mail

logger = logging.getLogger(__name__)

# After a mail server that did not answer, the pause before the next try doubles up to this.
LONGEST_PAUSE = 60.0


class Command(BaseCommand):
    help = (
        "Send the e-mails waiting in the outbox, one claimed at a time (several of these can "
        "run at once, each message goes once). With MAIL_WORKER=on, run it as a worker "
        "(`worker: python manage.py send_mails`). On SIGTERM or Ctrl+C it finishes the message "
        "being sent and stops."
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
        parser.add_argument("--batch", type=int, default=100, help="Messages per round.")

    def handle(self, *args, once: bool, interval: float, batch: int, **options) -> None:
        self.stopping = False
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        sent = 0
        pause = interval
        while not self.stopping:
            try:
                report = mail.send_pending(
                    limit=batch, timeout=settings.EMAIL_TIMEOUT, stop=lambda: self.stopping
                )
            except DatabaseError:  # the database is away: wait and try again
                logger.exception("E-mails not sent this round")
                close_old_connections()
                report = mail.SendReport(server_error="database unavailable")
            sent += len(report.sent)
            if report.sent:
                logger.info("E-mails sent: %s", len(report.sent))
            pause = min(pause * 2, LONGEST_PAUSE) if report.server_error else interval
            if once and (report.handled < batch or report.server_error):
                break
            if report.handled < batch or report.server_error:
                self._sleep(pause)
        self.stdout.write(f"E-mails sent: {sent}")

    def _stop(self, signum, frame) -> None:
        logger.info("Stopping after the message being sent (%s)", signal.strsignal(signum))
        self.stopping = True

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.2, deadline - time.monotonic()))
