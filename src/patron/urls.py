from django.contrib import admin
from django.urls import include, path

from patron.api import api

# No language prefix in URLs: the language comes from the switcher's cookie, else from the
# browser (Accept-Language), so a link works for everyone in their own language.
urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("patron.web.urls")),
    path("accounts/", include("patron.accounts.urls")),
    path("warnings/", include("patron.retention.urls")),
    path("service/", include("patron.service.urls")),
    path("campaigns/", include("patron.campaigns.urls")),
    path("m/", include("patron.messaging.urls")),
    path("loyalty/", include("patron.loyalty.urls")),
    path("recommendations/", include("patron.recommend.urls")),
    path("member/", include("patron.members.urls")),  # the member portal (issue 20)
    path("admin/", admin.site.urls),
]
