from django.apps import AppConfig


class StripeOfflineConfig(AppConfig):
    name = "payments.offline"
    label = "stripe_offline"
    verbose_name = "Stripe hors ligne (simulation)"
