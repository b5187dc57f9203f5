"""The admin as a shop owner reads it (docs/decisions/0014).

- Her sections first, in the order of her day: sales (orders, e-mails, invoices and credit
  notes), the catalogue
  (pieces, categories), the site's pages. The models only an engineer needs (accounts and
  their groups, django-axes' login records, Stripe's messages) are gathered in a
  « Technique » section at the bottom of the home page and of the side menu, folded: the
  owner's account is a superuser (`make superuser`) and sees them, out of her way.
- Titles in her words: « Commandes », « Nouvelle pièce », « Pièce « Vase bleu » », where
  Django says « Sélectionnez l'objet commande à changer », « Ajout de pièce »; an inline's
  « Ajouter une photo » instead of « Ajouter un objet Photo supplémentaire »; date filters
  titled « Par date de paiement », not « Par payée le » (`dated`). Every model admin
  registered on this site gets the titles (`OwnerTitles`); an admin names what Django
  cannot guess (`add_title`, `list_title`, `get_list_title()`, `get_change_title()`, an
  inline's `add_label`).
"""

import json
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.http import HttpRequest
from django.utils.text import capfirst

from shop.words import guillemets

# The owner's sections and models, in this order; any other follows, by name.
OWNER_ORDER = [
    "payments.order",
    "payments.outboxmessage",
    "payments.invoice",
    "payments.creditnote",
    "products.product",
    "products.category",
    "flatpages.flatpage",
]
# What only an engineer needs, in this order, in the « Technique » section.
TECHNICAL = [
    "payments.stripeevent",
    "auth.user",
    "auth.group",
    "axes.accesslog",
    "axes.accessattempt",
    "axes.accessfailurelog",
]
TECHNICAL_SECTION = "Technique"


class OwnerTitles:
    """Page titles in the owner's words, for a ModelAdmin (mixed in by `ShopAdminSite`,
    ahead of the admin's own class). What an admin says of itself is read with getattr,
    so that its own declarations win:

    - `add_title`: « Nouvelle pièce » (French needs the noun's gender, which Django cannot
      know);
    - `list_title`: the model's name on the home page and its list's title, when the
      model's plural is not it; `get_list_title(request)`: a list title that follows what
      the list shows (« Commandes à expédier »);
    - `get_change_title(obj)`: an object's title, « Pièce « Vase bleu » » by default.
    """

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        context = {"title": list_title(self, request), **(extra_context or {})}
        return super().changelist_view(request, context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if add:
            context["title"] = getattr(self, "add_title", "") or (
                f"Ajouter : {self.opts.verbose_name}"
            )
        elif obj is not None:
            context["title"] = change_title(self, obj)
            context["subtitle"] = None
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_inline_formsets(self, request, formsets, inline_instances, obj=None):
        inline_formsets = super().get_inline_formsets(request, formsets, inline_instances, obj)
        for inline_formset in inline_formsets:
            label = getattr(inline_formset.opts, "add_label", "") or (
                f"Ajouter : {inline_formset.opts.verbose_name}"
            )
            inline_formset.inline_formset_data = partial(_with_add_label, inline_formset, label)
        return inline_formsets


def menu_name(model_admin: admin.ModelAdmin) -> str:
    """The model's name on the home page and in the side menu."""
    return getattr(model_admin, "list_title", "") or capfirst(model_admin.opts.verbose_name_plural)


def list_title(model_admin: admin.ModelAdmin, request: HttpRequest) -> str:
    """The list page's title, which may follow what it shows (« Commandes à expédier »)."""
    if hasattr(model_admin, "get_list_title"):
        return model_admin.get_list_title(request)
    return menu_name(model_admin)


def change_title(model_admin: admin.ModelAdmin, obj: Any) -> str:
    if hasattr(model_admin, "get_change_title"):
        return model_admin.get_change_title(obj)
    return f"{capfirst(model_admin.opts.verbose_name)} {guillemets(str(obj))}"


def _with_add_label(inline_formset: helpers.InlineAdminFormSet, label: str) -> str:
    """Django's data for the inline's script, with the owner's « Ajouter une photo »."""
    data = json.loads(helpers.InlineAdminFormSet.inline_formset_data(inline_formset))
    data["options"]["addText"] = label
    return json.dumps(data)


def dated(title: str) -> type[admin.DateFieldListFilter]:
    """Django's date filter under the owner's title (`list_filter = [("paid_at",
    dated("date de paiement"))]`): « Par date de paiement », where the field's name would
    make « Par payée le »."""

    class Dated(admin.DateFieldListFilter):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.title = title

    return Dated


class ShopAdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, OwnerTitles):
            admin_class = type(admin_class.__name__, (OwnerTitles, admin_class), {})
        super().register(model_or_iterable, admin_class, **options)

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        """The owner's sections in the order of her day, then « Technique », folded (the
        template shows a section marked `technical` in a <details>)."""
        apps = super().get_app_list(request, app_label)
        for app in apps:
            for model in app["models"]:
                model_admin = self._registry[model["model"]]
                model["name"] = menu_name(model_admin)
        if app_label is not None:
            return apps
        owner, technical = [], []
        for app in apps:
            kept = [m for m in app["models"] if _label(m) not in TECHNICAL]
            technical += [m for m in app["models"] if _label(m) in TECHNICAL]
            if kept:
                owner.append({**app, "models": _in_order(kept, OWNER_ORDER)})
        owner.sort(key=lambda app: _position(app["models"][0], OWNER_ORDER))
        if technical:
            owner.append(
                {
                    "name": TECHNICAL_SECTION,
                    "app_label": "technique",
                    "app_url": "",
                    "has_module_perms": True,
                    "models": _in_order(technical, TECHNICAL),
                    "technical": True,
                    # Unfolded while one of its pages is open.
                    "current": any(
                        request.path.startswith(m["admin_url"] or "-") for m in technical
                    ),
                }
            )
        return owner

    def app_index(self, request: HttpRequest, app_label: str, extra_context=None):
        # « Ventes », not Django's « Administration de Ventes ».
        apps = super().get_app_list(request, app_label)
        title = {"title": apps[0]["name"]} if apps else {}
        return super().app_index(request, app_label, {**title, **(extra_context or {})})


def _label(model: dict) -> str:
    return model["model"]._meta.label_lower


def _position(model: dict, order: list[str]) -> tuple[int, str]:
    label = _label(model)
    return (order.index(label) if label in order else len(order), model["name"])


def _in_order(models: Iterable[dict], order: list[str]) -> list[dict]:
    return sorted(models, key=partial(_position, order=order))
