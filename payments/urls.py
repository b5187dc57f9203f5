from django.urls import path

from payments import views

app_name = "payments"

urlpatterns = [
    path("commande/", views.checkout_start, name="checkout"),
    path("commande/merci/", views.checkout_thanks, name="thanks"),
    path("commande/annulee/", views.checkout_cancelled, name="cancelled"),
    path("api/webhooks/stripe", views.stripe_webhook, name="stripe-webhook"),
    path("suivi/<str:token>/", views.buyer_order_page, name="order-page"),
    path("retractation/", views.withdrawal, name="withdrawal"),
    # The buyer's documents, under the order page's signed token (SPEC §12).
    path("suivi/<str:token>/facture/", views.order_invoice, name="order-invoice"),
    path(
        "suivi/<str:token>/avoir/<str:number>/",
        views.order_credit_note,
        name="order-credit-note",
    ),
]
