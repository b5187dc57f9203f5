from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Ventes"

    def ready(self) -> None:
        # The catalogue's admin asks which sold pieces a paid order owns, and puts pieces
        # back on sale through the orders' side, without importing it (products/stock.py).
        from payments.selectors import sold_to_paid_order
        from payments.services.refunds import put_back_on_sale
        from products import stock

        stock.register_piece_owners(
            stock.PieceOwners(owned=sold_to_paid_order, put_back_on_sale=put_back_on_sale)
        )

        # Every e-mail queued in a transaction is sent after the response, once it commits
        # (unless MAIL_WORKER): the outbox says when, the senders' service does it.
        from payments import outbox
        from payments.services import mail

        outbox.mails_queued.connect(mail.mails_queued, dispatch_uid="payments-mail-after-response")
