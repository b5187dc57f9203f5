"""The owner's words for what Stripe sent and what the services made of it.

The services return short English outcomes (« paid », « already paid », « unchanged
(cancelled) », « refunded (conflict) »...), stored on each Stripe event and written in the
logs: they are an interface that tests, logs and `reconcile` read, and stay as they are.
The admin shows them through this module, in French. An outcome not known here shows the
event's result alone (« Traité »), never the English.
"""

import re

from payments.models import Order, StripeEvent

EVENT_LABELS = {
    "checkout.session.completed": "Stripe : paiement validé par le client",
    "checkout.session.async_payment_succeeded": "Stripe : paiement différé reçu",
    "checkout.session.async_payment_failed": "Stripe : paiement différé refusé par la banque",
    "checkout.session.expired": "Stripe : page de paiement expirée",
    "payment_intent.succeeded": "Stripe : paiement encaissé",
}

REFUND_REASONS = {
    Order.RefundReason.CONFLICT: "Pièce déjà vendue à un autre client, remboursement automatique",
    Order.RefundReason.AMOUNT_MISMATCH: "Montant différent de la commande, remboursement "
    "automatique",
    Order.RefundReason.ADMIN: "Remboursée par la boutique",
}

FIXED_OUTCOMES = {
    "paid": "Commande payée, pièces vendues",
    "processing": "Paiement différé, en attente de la banque",
    "lost session expired": "Page de paiement fermée, la commande n'était plus en cours",
    "event type not handled": "Sans effet sur les commandes",
    "unchanged (session open)": "Rien à faire, le client n'a pas encore payé",
}

_CHANGE = re.compile(r"(?P<verb>unchanged|refunded|released) \((?P<what>[a-z_ ]+)\)")
_ALREADY = re.compile(r"already (?P<what>[a-z_]+)")
# A webhook's answer to an event it had handled already (`webhooks.Result.detail`).
ALREADY_HANDLED = {
    "processed": "Déjà traité, rien de plus à faire",
    "ignored": "Déjà reçu, rien à faire",
}


def event_label(event_type: str) -> str:
    """What a Stripe event says, for the owner."""
    return EVENT_LABELS.get(event_type, "Message de Stripe")


def outcome_text(detail: str) -> str:
    """A service's outcome (`StripeEvent.detail`, a webhook's result) in French; empty
    when it is not one the shop knows."""
    if detail in FIXED_OUTCOMES:
        return FIXED_OUTCOMES[detail]
    if detail.startswith("unknown order"):
        return "Commande inconnue de la boutique, rien fait"
    if detail.startswith("malformed object"):
        return "Message incomplet, rien fait"
    already = _ALREADY.fullmatch(detail)
    if already is not None:
        what = already["what"]
        if what in ALREADY_HANDLED:
            return ALREADY_HANDLED[what]
        return f"Commande déjà {_status(what)}, rien de plus à faire"
    change = _CHANGE.fullmatch(detail)
    if change is None:
        return ""
    verb, what = change["verb"], change["what"]
    if verb == "refunded":
        return REFUND_REASONS.get(what, "Commande remboursée")
    if verb == "released":
        return f"Commande {_status(what)}, pièces remises en vente"
    return f"Rien à changer, la commande est {_status(what)}"


def event_result(event: StripeEvent) -> str:
    """What came of a Stripe event, for the owner, in French."""
    if event.outcome == StripeEvent.Outcome.FAILED:
        return "Échec, Stripe renverra ce message"
    if event.outcome == StripeEvent.Outcome.RECEIVED:
        return "Reçu, en cours de traitement"
    return outcome_text(event.detail) or event.get_outcome_display()


def _status(value: str) -> str:
    try:
        return Order.Status(value).label.lower()
    except ValueError:
        return value
