from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetentionConfig(AppConfig):
    name = "patron.retention"
    label = "retention"
    verbose_name = _("Retention")

    def ready(self) -> None:
        from patron.accounts.audit import audit_register
        from patron.retention.models import ChurnWarning
        from patron.retention.panels import register_panels

        # People's changes (assign, respond) are audited like customer records.
        audit_register(ChurnWarning)
        register_panels()
