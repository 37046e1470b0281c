"""Model instances from hand-written SQL, as the ORM builds them (``Model.from_db`` after the
backend's and the fields' converters), for the few hot paths (API auth, a till's request)
where one statement must do what several querysets would, and compiling querysets costs
more than the query."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)


class RawModel(Generic[M]):
    """The columns of ``model`` under the table alias ``alias`` (all concrete fields, or
    those named), and instances built from a row's slice of them.

    >>> users = RawModel(User, "u")
    >>> sql = f"SELECT {users.columns()} FROM auth_user u WHERE ..."
    >>> user = users.build(row, start=0)   # None when the (outer-joined) row is empty
    """

    def __init__(self, model: type[M], alias: str, fields: Sequence[str] | None = None) -> None:
        self.model = model
        self.alias = alias
        self.fields = [
            f
            for f in model._meta.concrete_fields
            if fields is None or f.name in fields or f.attname in fields
        ]
        self.width = len(self.fields)
        self._attnames = [f.attname for f in self.fields]
        self._pk_at = self._attnames.index(model._meta.pk.attname)  # type: ignore[union-attr]
        self._converters: dict[str, list[Callable[[Any], Any]]] = {}

    def columns(self) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{quote(f.column)}" for f in self.fields)

    def _converters_now(self) -> list[Callable[[Any], Any]]:
        vendor = connection.vendor
        if vendor not in self._converters:
            self._converters[vendor] = [self._converter(f) for f in self.fields]
        return self._converters[vendor]

    @staticmethod
    def _converter(field: Any) -> Callable[[Any], Any]:
        column = field.get_col(field.model._meta.db_table)
        steps = connection.ops.get_db_converters(column) + field.get_db_converters(connection)

        def convert(value: Any) -> Any:
            for step in steps:
                value = step(value, column, connection)
            return value

        return convert

    def build(self, row: Sequence[Any], start: int = 0) -> M | None:
        values = row[start : start + self.width]
        if values[self._pk_at] is None:
            return None
        converted = [
            convert(value) for convert, value in zip(self._converters_now(), values, strict=True)
        ]
        return self.model.from_db(connection.alias, self._attnames, converted)
