from django.urls import path

from patron.web.views import (
    analysis,
    customers,
    dashboard,
    imports,
    jobs,
    predictions,
    segments,
    users,
)
from patron.web.views.sections import SECTION_VIEWS

app_name = "web"
urlpatterns = [
    path("", dashboard.home, name="home"),
    path("healthz", dashboard.healthz, name="healthz"),
    path("customers/", customers.customer_list, name="customer_list"),
    path("customers/export/<str:fmt>/", customers.customer_export, name="customer_export"),
    path("customers/views/", customers.saved_view_save, name="saved_view_save"),
    path(
        "customers/views/<int:view_id>/delete/",
        customers.saved_view_delete,
        name="saved_view_delete",
    ),
    # <path:...>: a customer id may hold "/" (shop-101/2); the longer patterns come first.
    path("customers/<path:external_id>/edit/", customers.customer_edit, name="customer_edit"),
    path(
        "customers/<path:external_id>/interactions/",
        customers.interaction_add,
        name="interaction_add",
    ),
    path("customers/<path:external_id>/", customers.customer_detail, name="customer_detail"),
    path("segments/", segments.segment_list, name="segments"),
    path("segments/<str:kind>/<str:name>/", segments.segment_detail, name="segment_detail"),
    path("imports/", imports.import_start, name="import_start"),
    path("imports/<int:upload_id>/", imports.import_review, name="import_review"),
    path("imports/<int:upload_id>/check/", imports.import_check, name="import_check"),
    path("imports/<int:upload_id>/confirm/", imports.import_confirm, name="import_confirm"),
    path("imports/<int:upload_id>/rejects.csv", imports.import_rejects, name="import_rejects"),
    path("jobs/<int:job_id>/", jobs.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/status/", jobs.job_status, name="job_status"),
    path("analysis/", analysis.analysis_start, name="analysis_start"),
    path("settings/analysis/", analysis.analysis_settings, name="analysis_settings"),
    path("settings/users/", users.user_list, name="users"),
    path("settings/users/<int:user_id>/", users.user_detail, name="user_detail"),
    path("reports/predictions/", predictions.prediction_charts, name="predictions"),
    *[path(f"{key}/", view, name=key) for key, view in SECTION_VIEWS.items()],
]
