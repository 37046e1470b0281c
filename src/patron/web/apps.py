from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "patron.web"
    label = "web"
    verbose_name = _("Web")

    def ready(self) -> None:
        # The Django admin, where it is still reachable, is Patron's (both languages).
        from django.contrib import admin

        admin.site.site_header = _("Patron administration")
        admin.site.site_title = _("Patron administration")
        admin.site.index_title = _("Administration")
