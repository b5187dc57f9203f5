from django import forms


class ShipmentForm(forms.Form):
    """What the owner writes on the parcel's record: who carries it and how to follow it."""

    carrier = forms.CharField(label="Transporteur", max_length=100)
    tracking_number = forms.CharField(label="Numéro de suivi", max_length=100)
    tracking_url = forms.URLField(
        label="Lien de suivi", max_length=500, required=False, assume_scheme="https"
    )
