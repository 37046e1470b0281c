"""The four roles, as groups of permissions. Code is the source of truth for what a role may do.

- admin: everything, users and settings.
- marketing: customers, segments, campaigns, loyalty; exports (campaign audiences).
- service: customers, interactions, tickets; no exports.
- analyst: read-only everywhere, exports; phone numbers masked.

``roles_sync`` runs in the data migration and again after every ``migrate`` (and after a test
database flush), so permissions of apps added later join the admin and analyst roles.
"""

from __future__ import annotations

from typing import Any

ROLE_ADMIN = "admin"
ROLE_MARKETING = "marketing"
ROLE_SERVICE = "service"
ROLE_ANALYST = "analyst"
ROLE_NAMES = (ROLE_ADMIN, ROLE_MARKETING, ROLE_SERVICE, ROLE_ANALYST)

ALL = "*"
# Apps whose view_ permissions are business data an analyst may read.
NOT_FOR_ANALYSTS = frozenset({"auth", "contenttypes", "sessions", "admin", "core"})

_CUSTOMERS_READ = (
    "customers.view_customer",
    "customers.view_consent",
    "customers.view_interaction",
    "sales.view_order",
    "sales.view_orderline",
    "sales.view_product",
    "auditlog.view_logentry",
)
# The churn warning list: service and marketing take warnings and record responses.
_WARNINGS_WORK = (
    "retention.view_churnwarning",
    "retention.add_churnwarning",
    "retention.change_churnwarning",
)

# Recommendations: everyone who serves customers reads them; marketing sets the shop's rules.
_RECOMMEND_READ = ("recommend.view_recommendation", "recommend.view_recommendationrun")
_RECOMMEND_RULES = (
    "recommend.view_recommendsettings",
    "recommend.change_recommendsettings",
    "recommend.view_productrule",
    "recommend.add_productrule",
    "recommend.change_productrule",
    "recommend.delete_productrule",
    "recommend.add_recommendationrun",  # start a run from the browser
)

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    ROLE_ADMIN: (ALL,),
    ROLE_MARKETING: (
        *_CUSTOMERS_READ,
        "customers.add_customer",
        "customers.change_customer",
        "customers.add_consent",
        "customers.change_consent",
        "customers.add_interaction",
        "accounts.view_segments",
        "accounts.manage_segments",
        "accounts.view_campaigns",
        "accounts.manage_campaigns",
        "accounts.view_loyalty",
        "accounts.manage_loyalty",
        "loyalty.adjust_points",
        "accounts.view_reports",
        "accounts.export_customers",
        "accounts.see_full_phone",
        *_WARNINGS_WORK,
        *_RECOMMEND_READ,
        *_RECOMMEND_RULES,
        "jobs.import_data",  # import files in the browser
        "jobs.run_analysis",
    ),
    ROLE_SERVICE: (
        *_CUSTOMERS_READ,
        "customers.change_customer",
        "customers.add_consent",
        "customers.change_consent",
        "customers.add_interaction",
        "customers.change_interaction",
        "accounts.view_tickets",
        "accounts.manage_tickets",
        # loyalty: service sees members and adjusts points with a reason
        "accounts.view_loyalty",
        "loyalty.adjust_points",
        "accounts.see_full_phone",
        *_WARNINGS_WORK,
        *_RECOMMEND_READ,
    ),
    # Plus every view_ permission of the business apps (see _resolve).
    # Read-only everywhere (the rule): starting an analysis run writes one, so it is
    # for admin and marketing; analysts read every run.
    ROLE_ANALYST: ("accounts.export_customers", "accounts.view_reports"),
}


def _resolve(role: str, permission_model: Any, using: str) -> list[Any]:
    permissions = permission_model.objects.using(using).select_related("content_type")
    if ALL in ROLE_PERMISSIONS[role]:
        return list(permissions)
    wanted = set(ROLE_PERMISSIONS[role])
    chosen = []
    for permission in permissions:
        app_label = permission.content_type.app_label
        name = f"{app_label}.{permission.codename}"
        reads = permission.codename.startswith("view_") and app_label not in NOT_FOR_ANALYSTS
        if name in wanted or (role == ROLE_ANALYST and reads):
            chosen.append(permission)
    return chosen


def roles_sync(*, group_model: Any, permission_model: Any, using: str = "default") -> None:
    """Create the role groups and give each exactly its permissions."""
    for role in ROLE_NAMES:
        group, _ = group_model.objects.using(using).get_or_create(name=role)
        group.permissions.set(_resolve(role, permission_model, using))


def roles_sync_after_migrate(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver: runs once, after the last app's permissions exist."""
    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    # Django sends post_migrate once per app that has models, in INSTALLED_APPS order.
    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender.name != with_models[-1].name:
        return
    roles_sync(group_model=Group, permission_model=Permission, using=using)
