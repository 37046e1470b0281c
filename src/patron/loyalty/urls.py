from django.urls import path

from patron.loyalty import views

app_name = "loyalty"
urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("enrol/", views.member_enrol, name="member_enrol"),
    path("members/<str:card_number>/", views.member_detail, name="member_detail"),
    path(
        "members/<str:card_number>/statement.csv", views.member_statement_csv, name="statement_csv"
    ),
    path("members/<str:card_number>/adjust/", views.member_adjust, name="member_adjust"),
    path("rewards/", views.reward_list, name="reward_list"),
    path("settings/", views.programme_settings, name="settings"),
    path("analytics/", views.programme_analytics, name="analytics"),
]
