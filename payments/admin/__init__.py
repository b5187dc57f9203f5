"""The owner's view of payments, declarative on purpose (STYLE §10):

- `orders`: the orders, their page and their actions;
- `events`: the Stripe event log, and its reprocess action;
- `emails`: the outbox's e-mails (sent, waiting, refused), its send-again action, and an
  order's e-mails on its page;
- `documents`: refunds (the confirmation, an order's refunds), invoices and credit notes
  (read-only), their export for the accountant;
- `filters`: the orders' list filters (to ship, Stripe calls pending, conflicts);
- `views`: the owner's own pages (the shipment form, the delivery's confirmation, the
  packing slip, the dashboard);
- `common`: what orders and events share (read-only rows, links to Stripe's dashboard).

Every action and page calls a service (payments.services, payments.webhooks) or a selector
(payments.selectors); the admin itself changes no row. Orders and events are read-only: a
save from the change form would write the whole row back and could undo what a webhook
committed in the meantime.
"""

from payments.admin.documents import CreditNoteAdmin, InvoiceAdmin
from payments.admin.emails import OutboxMessageAdmin
from payments.admin.events import StripeEventAdmin
from payments.admin.orders import OrderAdmin

__all__ = [
    "CreditNoteAdmin",
    "InvoiceAdmin",
    "OrderAdmin",
    "OutboxMessageAdmin",
    "StripeEventAdmin",
]
