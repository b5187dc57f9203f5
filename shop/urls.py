from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from products.api import stock_api
from shop.views import healthz

admin.site.site_header = "Boutique · administration"
admin.site.site_title = "Boutique"
admin.site.index_title = "Gérer la boutique"

urlpatterns = [
    path("", include("products.urls")),
    path("panier/", include("cart.urls")),
    path("", include("payments.urls")),
    path("api/products", stock_api, name="stock-api"),
    path("healthz", healthz, name="healthz"),
    # The offline Stripe server checks settings.STRIPE_OFFLINE on every request.
    path("_stripe/", include("payments.offline.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
