from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator

from payments import carriers
from payments.carriers import Carrier
from payments.exceptions import ShipmentRefused
from products.templatetags.money import euros
from shop.euros import EurosField


class ShipmentForm(forms.Form):
    """What the owner writes on the parcel's record: who carries it and its number. The
    link to follow it is built from them (payments/carriers.py); only a carrier outside
    the list needs its name and the link it gave."""

    carrier = forms.ChoiceField(
        label="Transporteur", choices=[("", "— choisir —"), *Carrier.choices]
    )
    tracking_number = forms.CharField(
        label="Numéro de suivi",
        max_length=100,
        help_text="Tel qu'il est imprimé sur l'étiquette ou le reçu (les espaces ne comptent pas).",
    )
    other_carrier = forms.CharField(label="Nom du transporteur", max_length=100, required=False)
    tracking_url = forms.URLField(
        label="Lien de suivi",
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text="L'adresse de la page de suivi donnée par ce transporteur : le client la "
        "reçoit dans l'e-mail, sous « Suivre le colis ».",
    )

    def clean(self) -> dict:
        data = super().clean()
        carrier, number = data.get("carrier"), data.get("tracking_number")
        if carrier and number:
            try:
                data["tracking_number"] = carriers.clean_number(carrier, number)
            except ShipmentRefused as refusal:
                self.add_error("tracking_number", refusal.message)
        if carrier == Carrier.OTHER:
            if not data.get("other_carrier", "").strip():
                self.add_error("other_carrier", "Indiquez le nom du transporteur.")
            if not data.get("tracking_url") and "tracking_url" not in self.errors:
                self.add_error("tracking_url", "Collez le lien de suivi donné par le transporteur.")
        else:
            # A listed carrier's link is built from the number: nothing pasted is kept.
            data["other_carrier"] = ""
            data["tracking_url"] = ""
        return data


REFUND_REASONS = [
    "Rétractation du client",
    "Pièce retournée",
    "Pièce abîmée pendant le transport",
    "Colis perdu",
    "Pièce non conforme à la description",
    "Geste commercial",
]


class RefundForm(forms.Form):
    """The owner's refund of a sale (SPEC §5): how much (`montant`, all that is left by
    default), why, and which pieces go back on sale. The amount is checked again against
    what is left under the order's lock (services.refunds.refund_sale)."""

    montant = EurosField(
        label="Montant à rembourser",
        min_value=Decimal("0.01"),
        help_text="Tout ce qui reste par défaut ; un montant plus petit fait un remboursement "
        "partiel (« 10,00 » ou « 10.00 »).",
        error_messages={"min_value": "Le montant doit être d'au moins 0,01 €."},
    )
    motif = forms.CharField(
        label="Motif",
        max_length=255,
        help_text="Figure sur l'avoir envoyé au client.",
        widget=forms.TextInput(attrs={"list": "refund-reasons", "size": "50"}),
    )
    remettre_en_vente = forms.TypedMultipleChoiceField(
        label="Remettre en vente",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Les pièces cochées redeviennent disponibles dans la boutique dès la "
        "confirmation.",
    )

    def __init__(self, *args, left: Decimal, pieces: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.left = left
        self.fields["montant"].validators.append(MaxValueValidator(left, message=_too_much(left)))
        self.fields["remettre_en_vente"].choices = pieces


def _too_much(left: Decimal) -> str:
    return f"Il ne reste que {euros(left)} à rembourser sur cette commande."


class PeriodForm(forms.Form):
    """A period, both days included (the accountant's export)."""

    du = forms.DateField(label="Du", widget=forms.DateInput(attrs={"type": "date"}))
    au = forms.DateField(label="Au", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("du"), cleaned.get("au")
        if start and end and start > end:
            raise forms.ValidationError("La fin de la période précède son début.")
        return cleaned


class WithdrawalForm(forms.Form):
    """The buyer's withdrawal declaration (SPEC §6, §12): what identifies the contract, and
    who withdraws. Field names are a contract: `reference`, `email`, `nom`."""

    reference = forms.CharField(
        label="Référence de la commande",
        max_length=20,
        help_text="Elle commence par B- et figure dans l'e-mail de confirmation.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "Indiquez la référence de la commande."},
    )
    email = forms.EmailField(
        label="Adresse e-mail utilisée pour la commande",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": "Indiquez l'adresse e-mail utilisée pour la commande.",
            "invalid": "Cette adresse e-mail n'est pas valide.",
        },
    )
    nom = forms.CharField(
        label="Votre nom (facultatif)",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def clean_reference(self) -> str:
        """« b-7k2m9qxa », « 7K2M 9QXA » and « B-7K2M9QXA » name one order."""
        value = "".join(self.cleaned_data["reference"].split()).upper()
        if "-" not in value:
            value = f"B-{value}"
        return value
