from django.urls import path

from patron.retention import views

app_name = "retention"
urlpatterns = [
    path("", views.warning_list, name="warning_list"),
    path("refresh/", views.warning_refresh, name="warning_refresh"),
    path("threshold/", views.warning_threshold, name="warning_threshold"),
    path("<int:id>/", views.warning_detail, name="warning_detail"),
    path("<int:id>/assign/", views.warning_assign, name="warning_assign"),
    path("<int:id>/respond/", views.warning_respond, name="warning_respond"),
]
