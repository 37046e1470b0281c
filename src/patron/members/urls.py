from django.urls import path

from patron.members import staff_views, views

app_name = "members"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("logout/", views.logout, name="logout"),
    path("statement/", views.statement, name="statement"),
    path("rewards/", views.rewards, name="rewards"),
    path("rewards/<int:id>/", views.reward_redeem, name="reward_redeem"),
    path("friends/", views.friends, name="friends"),
    path("orders/", views.orders, name="orders"),
    path("preferences/", views.preferences, name="preferences"),
    path("consents/", views.consents, name="consents"),
    path("data/", views.data, name="data"),
    path("data/my-data.<str:fmt>", views.data_download, name="data_download"),
    path("staff/", staff_views.portal_staff, name="staff"),
    path("staff/erasures/<int:id>/", staff_views.erasure_do, name="erasure_do"),
]
