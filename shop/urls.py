from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from products.api import stock_api
from products.sitemaps import SITEMAPS
from products.views import legal_page, robots_txt
from shop.views import healthz

admin.site.site_header = f"{settings.SHOP_NAME} · administration"
admin.site.site_title = settings.SHOP_NAME
admin.site.index_title = "Gérer la boutique"
# Empty fields read as the shop's own display methods write them.
admin.site.empty_value_display = "—"

urlpatterns = [
    path("", include("products.urls")),
    path("panier/", include("cart.urls")),
    path("", include("payments.urls")),
    path("api/products", stock_api, name="stock-api"),
    path("healthz", healthz, name="healthz"),
    path("pages/<slug:slug>/", legal_page, name="legal-page"),
    path(
        "sitemap.xml",
        sitemap,
        {"sitemaps": SITEMAPS},
        name="django.contrib.sitemaps.views.sitemap",
    ),
    path("robots.txt", robots_txt, name="robots-txt"),
    # The offline Stripe server checks settings.STRIPE_OFFLINE on every request.
    path("_stripe/", include("payments.offline.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
