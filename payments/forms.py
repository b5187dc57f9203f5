from django import forms

from payments import carriers
from payments.carriers import Carrier
from payments.exceptions import ShipmentRefused


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
