from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "patron.accounts"
    label = "accounts"
    verbose_name = _("Accounts and access")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from patron.accounts import audit, roles, sitegate

        audit.register_models()
        sitegate.guard_admin_site()
        # Roles are defined in code (roles.py); a migrate or a test flush re-applies them.
        post_migrate.connect(roles.roles_sync_after_migrate, dispatch_uid="patron-roles-sync")
