from django.urls import path

from patron.web.views import customers, dashboard
from patron.web.views.sections import SECTION_VIEWS

app_name = "web"
urlpatterns = [
    path("", dashboard.home, name="home"),
    path("healthz", dashboard.healthz, name="healthz"),
    path("customers/", customers.customer_list, name="customer_list"),
    path("customers/export/<str:fmt>/", customers.customer_export, name="customer_export"),
    path("customers/<str:external_id>/", customers.customer_detail, name="customer_detail"),
    path("customers/<str:external_id>/edit/", customers.customer_edit, name="customer_edit"),
    path(
        "customers/<str:external_id>/interactions/",
        customers.interaction_add,
        name="interaction_add",
    ),
    *[path(f"{key}/", view, name=key) for key, view in SECTION_VIEWS.items()],
]
