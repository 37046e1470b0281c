from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _search_index_ensure(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    """After every migrate: a later migration that rebuilt the customer table on SQLite took
    the search triggers with it; put them back (see customers/search.py)."""
    from django.db import connections

    from patron.customers.search import search_index_ensure

    plan = kwargs.get("plan") or []
    if not any(m.app_label == "customers" and not backwards for m, backwards in plan):  # type: ignore[attr-defined]
        return  # none of ours migrated forwards (a flush, another app, an undo)
    search_index_ensure(using=connections[using])


class CustomersConfig(AppConfig):
    name = "patron.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(_search_index_ensure, sender=self)
