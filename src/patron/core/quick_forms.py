"""A form renderer that writes the plain widgets and labels in Python.

Django renders every widget, every ``<option>`` and every label through a template; a filter
form of twenty fields spent about half of the customer list's time there. ``QuickRenderer``
writes the same HTML as Django's own templates (``django/forms/widgets/input.html``,
``select.html``, ``select_option.html``, ``django/forms/label.html`` and their attrs) for those
templates, and hands any other template to Django. Use it as a form's ``default_renderer``.
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in ("input", "text", "number", "date", "email", "hidden", "search", "url")
)
SELECT_TEMPLATE = "django/forms/widgets/select.html"
LABEL_TEMPLATE = "django/forms/label.html"


def _attrs(attrs: dict[str, Any] | None) -> str:
    """As ``django/forms/attrs.html``: ``True`` is a bare name, ``False`` leaves it out."""
    parts = []
    for name, value in (attrs or {}).items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            parts.append(f' {conditional_escape(name)}="{conditional_escape(str(value))}"')
    return "".join(parts)


def _input(widget: dict[str, Any]) -> str:
    value = widget.get("value")
    shown = "" if value is None else f' value="{conditional_escape(str(value))}"'
    return (
        f'<input type="{conditional_escape(widget["type"])}" '
        f'name="{conditional_escape(widget["name"])}"{shown}{_attrs(widget["attrs"])}>'
    )


def _select(widget: dict[str, Any]) -> str:
    out = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in options:
            out.append(
                f'\n  <option value="{conditional_escape(str(option["value"]))}"'
                f"{_attrs(option['attrs'])}>{conditional_escape(option['label'])}</option>"
            )
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


def _label(context: dict[str, Any]) -> str:
    label = conditional_escape(context["label"])
    if not context.get("use_tag"):
        return str(label)
    tag = context.get("tag") or "label"
    return f"<{tag}{_attrs(context.get('attrs'))}>{label}</{tag}>"


class QuickRenderer(DjangoTemplates):
    """Django's template renderer, with the plain widgets and labels written in Python."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> Any:
        # every name, value and label is escaped by the helpers above
        if template_name in INPUT_TEMPLATES:
            return mark_safe(_input(context["widget"]))
        if template_name == SELECT_TEMPLATE and all(
            o.get("template_name") == "django/forms/widgets/select_option.html"
            for _g, options, _i in context["widget"]["optgroups"]
            for o in options
        ):
            return mark_safe(_select(context["widget"]))
        if template_name == LABEL_TEMPLATE:
            return mark_safe(_label(context))
        return super().render(template_name, context, request)


QUICK_RENDERER = QuickRenderer()
