"""A local mail server for the bench: the shop sends its e-mails over SMTP, as in production
(the console backend would hide what a connection, a conversation and a message cost), and
this sink accepts them and writes one line per message (recipients, subject) to a file.

    .venv/bin/python bench/smtp_sink.py PORT FILE
"""

import asyncio
import sys
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, path: Path) -> None:
        self.out = path.open("a", buffering=1)

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        subject = str(message.get("Subject", "")).replace("\t", " ")
        self.out.write(f"{','.join(envelope.rcpt_tos)}\t{subject}\n")
        return "250 OK"


def main() -> None:
    port, path = int(sys.argv[1]), Path(sys.argv[2])
    controller = Controller(Sink(path), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
