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
]
