"""Who the shop's e-mails come from: the shop's name, then its address.

`DEFAULT_FROM_EMAIL` given as a bare address (`contact@atelier.fr`) is sent as
`<SHOP_NAME> <contact@atelier.fr>`, so that the buyer's mailbox shows the shop's name and
follows it when it changes; an address given with a name of its own keeps it."""

from email.headerregistry import Address
from email.utils import parseaddr


def named_sender(value: str, name: str) -> str:
    """`value` with `name` as its display name, unless it has one (or is not an address)."""
    display, address = parseaddr(value)
    if display or "@" not in address or not name.strip():
        return value
    username, _, domain = address.rpartition("@")
    # Quoted as RFC 5322 asks when the name holds a comma, a dot…; encoded when sent.
    return str(Address(display_name=name.strip(), username=username, domain=domain))
