from django.urls import path

from patron.recommend import views

app_name = "recommend"
urlpatterns = [
    path("export.csv", views.export, name="export"),
    path("rules/", views.rules, name="rules"),
    path("runs/", views.runs, name="runs"),
    path("runs/start/", views.run_start, name="run_start"),
]
