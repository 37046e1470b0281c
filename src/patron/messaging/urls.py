from django.urls import path

from patron.messaging import views

app_name = "messaging"
urlpatterns = [path("u/<str:token>/", views.unsubscribe, name="unsubscribe")]
