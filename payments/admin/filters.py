"""The orders' list filters: to ship (the default view), Stripe calls pending, conflicts,
withdrawals to handle."""

from django.contrib import admin

from payments.selectors import CONFLICT, STRIPE_CALL_PENDING, TO_SHIP, WITHDRAWAL_TO_HANDLE


class ShipmentFilter(admin.SimpleListFilter):
    """Paid orders waiting to leave, oldest payment first: what the owner sees on opening
    the orders. Choosing another filter, or searching, shows every order it matches."""

    title = "expédition"
    parameter_name = "expedition"
    TO_SHIP = "a-expedier"
    SHIPPED = "expediees"
    ALL = "toutes"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        # Only a page being looked at gets the default: an action posted to the list acts
        # on the orders selected, whatever the list showed.
        others = set(request.GET) - {"o", "p", self.parameter_name}
        self.default = None if others or request.method != "GET" else self.TO_SHIP

    def lookups(self, request, model_admin):
        return [
            (self.TO_SHIP, "À expédier"),
            (self.SHIPPED, "Expédiées"),
            (self.ALL, "Toutes les commandes"),
        ]

    def value(self):
        return super().value() or self.default

    def has_output(self) -> bool:
        return True

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() == self.TO_SHIP:
            return queryset.filter(TO_SHIP)
        if self.value() == self.SHIPPED:
            return queryset.filter(shipped_at__isnull=False)
        return queryset


class StripeCallPendingFilter(admin.SimpleListFilter):
    title = "appels Stripe"
    parameter_name = "stripe"

    def lookups(self, request, model_admin):
        return [("a-relancer", "À relancer")]

    def queryset(self, request, queryset):
        if self.value() == "a-relancer":
            return queryset.filter(STRIPE_CALL_PENDING)
        return queryset


class ConflictFilter(admin.SimpleListFilter):
    title = "conflits"
    parameter_name = "conflit"

    def lookups(self, request, model_admin):
        return [("oui", "Conflits (remboursés automatiquement)")]

    def queryset(self, request, queryset):
        if self.value() == "oui":
            return queryset.filter(CONFLICT)
        return queryset


class WithdrawalFilter(admin.SimpleListFilter):
    """« Rétractations à traiter »: orders a buyer withdrew from, not refunded yet, the
    oldest withdrawal (the nearest refund deadline) first."""

    title = "rétractations"
    parameter_name = "retractation"
    TO_HANDLE = "a-traiter"
    ALL = "toutes"

    def lookups(self, request, model_admin):
        return [
            (self.TO_HANDLE, "Rétractations à traiter"),
            (self.ALL, "Toutes les rétractations"),
        ]

    def queryset(self, request, queryset):
        if self.value() == self.TO_HANDLE:
            return queryset.filter(WITHDRAWAL_TO_HANDLE)
        if self.value() == self.ALL:
            return queryset.filter(withdrawn_at__isnull=False)
        return queryset
