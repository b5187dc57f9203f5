from django.urls import path

from products import views

app_name = "products"

urlpatterns = [
    path("", views.product_list, name="list"),
    path("produits/<slug:slug>/", views.product_detail, name="detail"),
    path("categories/<slug:slug>/", views.category_detail, name="category"),
    path("feeds/produits.xml", views.product_feed, name="feed"),
]
