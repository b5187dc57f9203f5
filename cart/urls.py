from django.urls import path

from cart import views

app_name = "cart"

urlpatterns = [
    path("", views.cart_detail, name="detail"),
    path("ajouter/<int:product_id>/", views.cart_add, name="add"),
    path("retirer/<int:product_id>/", views.cart_remove, name="remove"),
]
