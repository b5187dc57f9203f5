from django import forms


class ShipmentForm(forms.Form):
    """What the owner writes on the parcel's record: who carries it and how to follow it."""

    carrier = forms.CharField(label="Transporteur", max_length=100)
    tracking_number = forms.CharField(label="Numéro de suivi", max_length=100)
    tracking_url = forms.URLField(
        label="Lien de suivi", max_length=500, required=False, assume_scheme="https"
    )


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
