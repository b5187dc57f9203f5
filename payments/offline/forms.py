"""The simulated Checkout page's form, and the shopper it is filled in with by default
(the same values `testing.submit_hosted_page` posts)."""

from typing import TYPE_CHECKING, Any

from django import forms

if TYPE_CHECKING:  # the testing helper imports this module without Django set up
    from payments.offline.models import CheckoutSession

DEFAULT_EMAIL = "client@example.com"
DEFAULT_NAME = "Camille Martin"
DEFAULT_ADDRESS = {"line1": "12 rue des Lilas", "postal_code": "75011", "city": "Paris"}
DEFAULT_PHONE = "+33 6 12 34 56 78"


class PaymentForm(forms.Form):
    """What the simulated Checkout page asks; the address and the phone only when the
    session collects them."""

    METHODS = [("card", "Carte"), ("sepa_debit", "Virement SEPA (paiement différé)")]

    email = forms.EmailField(label="E-mail", max_length=254)
    name = forms.CharField(label="Nom", max_length=200)
    method = forms.ChoiceField(choices=METHODS, required=False)
    line1 = forms.CharField(label="Adresse", max_length=200, required=False)
    postal_code = forms.CharField(label="Code postal", max_length=20, required=False)
    city = forms.CharField(label="Ville", max_length=100, required=False)
    country = forms.ChoiceField(label="Pays", required=False)
    phone = forms.CharField(label="Téléphone", max_length=40, required=False)

    def __init__(self, *args: Any, session: "CheckoutSession", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.countries = _allowed_countries(session)
        self.fields["country"].choices = [(code, code) for code in self.countries]
        for name in ("line1", "postal_code", "city", "country"):
            if self.countries:
                self.fields[name].required = True
            else:
                del self.fields[name]
        self.collects_phone = session.phone_number_collection
        if self.collects_phone:
            self.fields["phone"].required = True
        else:
            del self.fields["phone"]

    @classmethod
    def initial_for(cls, session: "CheckoutSession") -> dict[str, str]:
        countries = _allowed_countries(session)
        country = "FR" if "FR" in countries else (countries[0] if countries else "")
        return {
            "email": session.customer_email or DEFAULT_EMAIL,
            "name": DEFAULT_NAME,
            **DEFAULT_ADDRESS,
            "country": country,
            "phone": DEFAULT_PHONE,
        }

    @property
    def delayed(self) -> bool:
        return self.cleaned_data.get("method") == "sepa_debit"

    def shipping_address(self) -> dict[str, Any] | None:
        if not self.countries:
            return None
        data = self.cleaned_data
        return {
            "city": data["city"],
            "country": data["country"],
            "line1": data["line1"],
            "line2": None,
            "postal_code": data["postal_code"],
            "state": None,
        }


def _allowed_countries(session: "CheckoutSession") -> list[str]:
    """Where the session ships to; empty when it collects no address."""
    return (session.shipping_address_collection or {}).get("allowed_countries", [])
