from django.urls import path

from patron.campaigns import measure_views, views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("new/", views.campaign_wizard, name="campaign_new"),
    path("<int:campaign_id>/", views.campaign_detail, name="campaign_detail"),
    path("<int:campaign_id>/edit/", views.campaign_wizard, name="campaign_edit"),
    path("<int:campaign_id>/preview/", views.campaign_preview, name="campaign_preview"),
    path("<int:campaign_id>/launch/", views.campaign_launch, name="campaign_launch"),
    path("<int:campaign_id>/test/", views.campaign_test, name="campaign_test"),
    path("<int:campaign_id>/progress/", views.campaign_progress, name="campaign_progress"),
    path("<int:campaign_id>/export.csv", views.campaign_export, name="campaign_export"),
    path(
        "<int:campaign_id>/report.<str:fmt>",
        measure_views.campaign_report_export,
        name="campaign_report_export",
    ),
    path("holdout/", measure_views.holdout, name="holdout"),
    path("cadence/", measure_views.cadence, name="cadence"),
    path("cycle/", measure_views.cycle, name="cycle"),
    path("segments/", views.segment_list, name="segment_list"),
    path("segments/new/", views.segment_builder, name="segment_new"),
    path("segments/<int:segment_id>/", views.segment_builder, name="segment_edit"),
    path("segments/<int:segment_id>/export.csv", views.segment_export, name="segment_export"),
    path("segments/count/", views.segment_count, name="segment_count"),
    path("c/<str:token>/", views.click, name="click"),
]
