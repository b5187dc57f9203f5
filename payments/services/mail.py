"""The outbox's senders (payments/outbox.py says what a message is and how it is queued):
claim waiting messages (a request's own at once, otherwise one at a time), send each, record
what came of it.

- `send_after_response`: the web worker's, for the messages its request queued (connected to
  `outbox.mails_queued` in payments/apps.py, unless MAIL_WORKER); a short timeout, and a pause
  of the whole process after a mail server that did not answer;
- `send_pending`: `send_mails`' and `reconcile`'s;
- `send_again`: the owner's action on refused messages.
"""

import logging
import smtplib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from payments.models import OutboxMessage
from payments.outbox import build
from payments.services.locking import lock_waiting_messages
from shop.after_response import defer

logger = logging.getLogger(__name__)

# A refused message is tried again after 1, 4, 16, 64 minutes, then ends refused.
MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=1)
# What a request's sender also sends, besides its own, when the server answers: the
# messages due again (in a shop without a mail worker, retries go out with the next sale),
# looked for at most once every DUE_CHECK_SECONDS per process: retries are minutes apart, and
# a sale should not pay a query for them every time.
DUE_PER_REQUEST = 5
DUE_CHECK_SECONDS = 30.0
# Recording a message sent while the database restarts: tries and the pause between them.
MARK_TRIES = 8
MARK_PAUSE = 0.5

Status = OutboxMessage.Status


def mails_queued(*, keys: list[str], **signal: Any) -> None:
    """`outbox.mails_queued`'s receiver: the web worker sends them after its response."""
    if not settings.MAIL_WORKER:
        defer(send_after_response, keys)


@dataclass
class SendReport:
    sent: list[str] = field(default_factory=list)  # keys
    retrying: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    server_error: str = ""  # the mail server did not answer: what it said, if anything

    @property
    def handled(self) -> int:
        return len(self.sent) + len(self.retrying) + len(self.refused)


# This process's pause after a mail server that did not answer (the in-request sender only).
_paused_until = 0.0
# When this process's in-request sender last looked for messages due again.
_due_checked_at = -DUE_CHECK_SECONDS


def paused() -> bool:
    return time.monotonic() < _paused_until


def _pause() -> None:
    global _paused_until
    _paused_until = time.monotonic() + settings.MAIL_PAUSE_SECONDS


def send_after_response(keys: list[str]) -> SendReport:
    """The web worker's sender: the messages its request queued, then a few that are due
    again; with a short timeout, and nothing at all while this process's pause lasts."""
    if paused():
        logger.info(
            "Mail server paused in this process: %s e-mails left to the next sender", len(keys)
        )
        return SendReport()
    global _due_checked_at
    timeout = settings.MAIL_REQUEST_TIMEOUT
    report = send_pending(keys=keys, limit=len(keys), timeout=timeout)
    if not report.server_error and time.monotonic() - _due_checked_at >= DUE_CHECK_SECONDS:
        _due_checked_at = time.monotonic()
        more = send_pending(limit=DUE_PER_REQUEST, timeout=timeout)
        _merge(report, more)
    if report.server_error:
        _pause()
    return report


def send_pending(
    *,
    keys: Iterable[str] | None = None,
    limit: int | None = None,
    timeout: float | None = None,
    due_only: bool = True,
    stop: Callable[[], bool] = lambda: False,
) -> SendReport:
    """Claim and send waiting messages over one connection to the mail server: those with
    these keys (claimed together), any otherwise (one claim each), at most `limit`, those due
    for a try unless `due_only` is false. Stops after the message being sent when `stop()`
    says so, and at the first sign that the mail server does not answer; what was claimed and
    not tried is released, untouched."""
    report = SendReport()
    keys = list(keys) if keys is not None else None
    mailer: BaseEmailBackend | None = None
    try:
        while (limit is None or report.handled < limit) and not stop():
            room = len(keys) if keys is not None else 1
            if limit is not None:
                room = min(room, limit - report.handled)
            claimed = _claim(keys=keys, due_only=due_only, limit=room)
            if not claimed:
                break
            for position, message in enumerate(claimed):
                if position and stop():
                    _unclaim(claimed[position:])
                    return report
                mailer = _send_one(message, mailer, timeout, report)
                if report.server_error:
                    _unclaim(claimed[position + 1 :])
                    return report
    finally:
        if mailer is not None:
            try:
                mailer.close()
            except Exception:  # closing a connection that hung up: nothing to lose
                logger.debug("Closing the mail connection failed", exc_info=True)
    return report


def _send_one(
    message: OutboxMessage,
    mailer: BaseEmailBackend | None,
    timeout: float | None,
    report: SendReport,
) -> BaseEmailBackend | None:
    """Send one claimed message and record what came of it in `report`; returns the open
    connection, if any. A mail server that does not answer leaves `report.server_error` set
    and the message released."""
    try:
        # Connected before the message is made: its attachments (an invoice's PDF, ~8 ms
        # of CPU) are not made for a server that does not answer.
        if mailer is None:
            mailer = get_connection(timeout=timeout or settings.EMAIL_TIMEOUT)
            mailer.open()
    except Exception as error:
        if not _server_down(message, error, report):
            _failed(message, error, report)
        return None
    try:
        email = build(message)
    except Exception as error:
        logger.exception("E-mail %s could not be prepared", message.key)
        _failed(message, error, report)
        return mailer
    try:
        mailer.send_messages([email])
    except Exception as error:
        if not _server_down(message, error, report):
            _failed(message, error, report)
        return mailer
    _mark_sent(message)
    report.sent.append(message.key)
    return mailer


def _server_down(message: OutboxMessage, error: Exception, report: SendReport) -> bool:
    """Whether `error` says the mail server does not answer: then the message is released,
    untouched, for the next sender, and the report says why."""
    if not _server_fault(error):
        return False
    _release(message, error)
    report.server_error = _describe(error)
    logger.warning(
        "Mail server unavailable (%s): e-mails wait for the next sender", report.server_error
    )
    return True


def _merge(report: SendReport, more: SendReport) -> None:
    report.sent += more.sent
    report.retrying += more.retrying
    report.refused += more.refused
    report.server_error = report.server_error or more.server_error


def _claim(*, keys: list[str] | None, due_only: bool, limit: int) -> list[OutboxMessage]:
    """Take up to `limit` waiting messages that no other sender holds, and hold them."""
    now = timezone.now()
    waiting = OutboxMessage.objects.filter(status=Status.PENDING).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )
    if due_only:
        waiting = waiting.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    if keys is not None:
        waiting = waiting.filter(key__in=keys)
    with transaction.atomic():
        messages = lock_waiting_messages(waiting, limit=limit)
        if not messages:
            return []
        until = now + timedelta(seconds=settings.MAIL_CLAIM_SECONDS)
        OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(claimed_until=until)
    for message in messages:
        message.claimed_until = until
    return messages


def _unclaim(messages: list[OutboxMessage]) -> None:
    """Release claimed messages that were not tried: the next sender takes them at once."""
    if messages:
        OutboxMessage.objects.filter(pk__in=[m.pk for m in messages], status=Status.PENDING).update(
            claimed_until=None
        )


# --- What a send came to -------------------------------------------------------------------


def _server_fault(error: Exception) -> bool:
    """Whether the mail server failed (down, hung, hung up, refused the session), as opposed
    to refusing this message (its address, its content): such a failure counts against no
    message."""
    if isinstance(error, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused):
        return False
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code == 421  # the server is closing the session
    return isinstance(error, smtplib.SMTPException | OSError)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def _french(error: Exception) -> str:
    """What the owner reads in the admin."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "Adresse refusée par le serveur de messagerie : " + ", ".join(error.recipients)
    if isinstance(error, smtplib.SMTPSenderRefused):
        return "Le serveur de messagerie refuse l'adresse d'expédition de la boutique."
    if isinstance(error, smtplib.SMTPException):
        return "Message refusé par le serveur de messagerie."
    return "Message impossible à préparer (erreur de la boutique, voir le détail technique)."


def _failed(message: OutboxMessage, error: Exception, report: SendReport) -> None:
    """The server refused this message, or it could not be made: try again later, or give up."""
    attempts = message.attempts + 1
    fields: dict[str, Any] = {
        "attempts": attempts,
        "claimed_until": None,
        "last_error": _french(error)[:500],
        "error_detail": _describe(error),
    }
    if attempts >= MAX_ATTEMPTS:
        fields["status"] = Status.REFUSED
        report.refused.append(message.key)
        logger.error(
            "E-mail refused after %s attempts: %s (%s)", attempts, message.key, _describe(error)
        )
    else:
        fields["next_attempt_at"] = timezone.now() + FIRST_RETRY * 4 ** (attempts - 1)
        report.retrying.append(message.key)
        logger.warning("E-mail not sent, tried again later: %s (%s)", message.key, error)
    _write(message, **fields)


def _release(message: OutboxMessage, error: Exception) -> None:
    _write(
        message,
        claimed_until=None,
        last_error="Serveur de messagerie injoignable : nouvel essai automatique.",
        error_detail=_describe(error),
    )


def _mark_sent(message: OutboxMessage) -> None:
    _write(
        message,
        status=Status.SENT,
        sent_at=timezone.now(),
        claimed_until=None,
        last_error="",
        error_detail="",
        attempts=F("attempts") + 1,
    )


def _write(message: OutboxMessage, **fields: Any) -> None:
    """Record what became of a message, through a database that may be restarting: the
    mail server has answered, and a message whose sending is not recorded would go twice."""
    for attempt in range(MARK_TRIES):
        try:
            OutboxMessage.objects.filter(pk=message.pk, status=Status.PENDING).update(**fields)
            return
        except DatabaseError:
            if connection.in_atomic_block or attempt == MARK_TRIES - 1:
                raise
            logger.warning("Database unavailable: recording e-mail %s again", message.key)
            connection.close()
            time.sleep(MARK_PAUSE * (attempt + 1))


# --- The owner's actions -------------------------------------------------------------------


def send_again(*, message_ids: Iterable[int]) -> int:
    """Queue refused messages again, with their attempts counted afresh; returns how many."""
    return OutboxMessage.objects.filter(pk__in=list(message_ids), status=Status.REFUSED).update(
        status=Status.PENDING, attempts=0, next_attempt_at=None, claimed_until=None
    )
