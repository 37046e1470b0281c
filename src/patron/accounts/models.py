"""Permissions that belong to no model: sections, exports, privacy, administration."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Access(models.Model):
    """Holds Patron's own permissions; it has no table."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("access")
        permissions = [
            ("view_segments", "Can view segments"),
            ("manage_segments", "Can manage segments"),
            ("view_loyalty", "Can view loyalty programs"),
            ("manage_loyalty", "Can manage loyalty programs"),
            ("view_campaigns", "Can view campaigns"),
            ("manage_campaigns", "Can manage campaigns"),
            ("view_tickets", "Can view service tickets"),
            ("manage_tickets", "Can manage service tickets"),
            ("view_reports", "Can view reports"),
            ("export_customers", "Can export customer lists"),
            ("see_full_phone", "Can see full phone numbers"),
            ("manage_settings", "Can change settings"),
            ("manage_users", "Can manage users and roles"),
            ("access_admin", "Can use the administration site"),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
