"""Checking segment rules: JSON text parsed, each condition's field, operator and value(s)
against the field catalogue, with errors that name the place in the tree and the valid
choices (:class:`~patron.campaigns.errors.CampaignError`, ``INVALID_RULES``)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from patron.campaigns.errors import CampaignError, CampaignErrorCode
from patron.campaigns.rules.fields import (
    ATTRIBUTE_PREFIX,
    BOOL,
    DATE,
    FIELDS,
    MAX_CONDITIONS,
    NUMBER,
    OPS,
    STRING,
    Field,
)


def rule_error(path: str, message: str, **extra: Any) -> CampaignError:
    return CampaignError(
        _("Segment rules, at %(path)s: %(message)s") % {"path": path, "message": message},
        code=CampaignErrorCode.INVALID_RULES,
        extra={"path": path, **extra},
    )


def _number(path: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise rule_error(path, _("expected a number, got %(value)s") % {"value": json.dumps(value)})
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise rule_error(
            path, _("expected a number, got %(value)s") % {"value": json.dumps(value)}
        ) from None
    if not number.is_finite():
        raise rule_error(path, _("expected a finite number"))
    return number


def _date(path: str, value: Any) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise rule_error(
            path, _("expected a date as YYYY-MM-DD, got %(value)s") % {"value": json.dumps(value)}
        ) from None


def _string(path: str, value: Any, f: Field) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise rule_error(path, _("expected a text, got %(value)s") % {"value": json.dumps(value)})
    text = str(value)
    if f.choices and text not in f.choices:
        raise rule_error(
            path,
            _("%(value)s is not a value of %(field)s; valid: %(valid)s")
            % {"value": json.dumps(text), "field": f.name, "valid": ", ".join(f.choices)},
            valid=list(f.choices),
        )
    return text


def condition_values(path: str, op: str, value: Any, f: Field) -> list[Any]:
    """The condition's value(s), checked against the field's kind."""
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise rule_error(path, _("%(op)s expects a non-empty list") % {"op": op})
        return [_string(path, v, f) for v in value]
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise rule_error(path, _("between expects a list of two values [low, high]"))
        low, high = (_date(path, v) if f.kind == DATE else _number(path, v) for v in value)
        if low > high:  # type: ignore[operator]
            raise rule_error(path, _("between: the low value is above the high value"))
        return [low, high]
    if f.kind == NUMBER:
        return [_number(path, value)]
    if f.kind == DATE:
        return [_date(path, value)]
    if f.kind == BOOL:
        if not isinstance(value, bool):
            raise rule_error(path, _("expected true or false"))
        return [value]
    return [_string(path, value, f)]


def rules_parse(rules: Any) -> Any:
    """Rules given as JSON text or already parsed; the parsed form."""
    if isinstance(rules, str | bytes):
        try:
            return json.loads(rules)
        except ValueError as error:
            raise CampaignError(
                _("The segment rules are not valid JSON: %(error)s") % {"error": error},
                code=CampaignErrorCode.INVALID_RULES,
            ) from None
    return rules


def condition_check(
    path: str, node: dict[str, Any], *, number: int
) -> tuple[Field, str, list[Any]]:
    """A condition's field, operator and checked value(s); ``number`` counts the conditions
    of the rules so far, this one included."""
    unknown_keys = set(node) - {"field", "op", "value"}
    if unknown_keys or "field" not in node or "op" not in node:
        raise rule_error(
            path,
            _(
                'a condition is {"field", "op", "value"}; a group is {"all": [...]}, '
                '{"any": [...]} or {"not": {...}}'
            ),
        )
    name, op = node["field"], node["op"]
    if number > MAX_CONDITIONS:
        raise rule_error(path, _("more than %(n)s conditions") % {"n": MAX_CONDITIONS})
    if isinstance(name, str) and name.startswith(ATTRIBUTE_PREFIX):
        key = name[len(ATTRIBUTE_PREFIX) :]
        if not key or len(key) > 64 or "\x00" in key:
            raise rule_error(
                path, _("an attribute field is attributes.<key>, the key 1-64 characters")
            )
        f = Field(name, STRING, name, name, source="attribute")
    elif not isinstance(name, str) or name not in FIELDS:
        valid = [*sorted(FIELDS), ATTRIBUTE_PREFIX + "<key>"]
        raise rule_error(
            path,
            _("unknown field %(field)s; valid fields: %(valid)s")
            % {"field": json.dumps(name, ensure_ascii=False), "valid": ", ".join(valid)},
            valid=valid,
        )
    else:
        f = FIELDS[name]
    if op not in OPS[f.kind]:
        raise rule_error(
            path,
            _("unknown operator %(op)s for %(field)s; valid operators: %(valid)s")
            % {"op": json.dumps(op), "field": f.name, "valid": ", ".join(OPS[f.kind])},
            valid=list(OPS[f.kind]),
        )
    if "value" not in node:
        raise rule_error(path, _("the condition has no value"))
    return f, op, condition_values(path, op, node["value"], f)
