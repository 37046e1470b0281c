from django.urls import path

from patron.service import survey_views, views

app_name = "service"
urlpatterns = [
    path("", views.ticket_list, name="ticket_list"),
    path("tickets/new/", views.ticket_new, name="ticket_new"),
    path("tickets/<int:id>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<int:id>/act/", views.ticket_act, name="ticket_act"),
    path("report/", survey_views.service_report, name="report"),
    path("surveys/", survey_views.survey_results, name="survey_results"),
    path("surveys/settings/", survey_views.survey_settings, name="survey_settings"),
    path("s/<str:token>/", survey_views.survey_answer, name="survey_answer"),
]
