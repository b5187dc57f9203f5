app_name = "stripe_offline"

urlpatterns: list = []
