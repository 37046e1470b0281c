from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "patron.service"
    label = "service"
    verbose_name = _("Service")

    def ready(self) -> None:
        from patron.accounts.audit import audit_register
        from patron.service.models import Ticket
        from patron.service.panels import register_panels

        audit_register(Ticket)
        register_panels()
