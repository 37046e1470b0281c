"""Forms of the import and analysis pages: upload, column mapping, import mode, as-of date."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from patron.ingest.mapping import FIELDS, EntityKind
from patron.jobs.fields import field_label
from patron.jobs.imports import UPLOAD_SUFFIXES
from patron.jobs.models import ImportMode, UploadKind

ENCODINGS = [
    ("", _("Detect")),
    ("utf-8", "UTF-8"),
    ("gb18030", "GB18030 / GBK"),
    ("utf-16", "UTF-16"),
    ("big5", "Big5"),
]
NOT_IMPORTED = _("— not imported —")
AUTOMATIC = _("Recognise automatically")
NO_PRESET = _("None: plain columns (English or Chinese names)")


def _preset(name: str) -> Any:
    from patron.ingest.formats import preset_by_name

    return preset_by_name(name)


def _preset_label(preset: Any) -> str:
    language = "zh-hans" if (get_language() or "").lower().startswith("zh") else "en"
    return str(preset.label.get(language) or preset.label.get("en") or preset.name)


def preset_choices() -> list[tuple[str, Any]]:
    """Automatic recognition, no preset, then every shipped export format by its label."""
    from patron.ingest.formats import GENERIC, load_presets

    formats = sorted(((p.name, _preset_label(p)) for p in load_presets()), key=lambda c: c[1])
    return [("", AUTOMATIC), (GENERIC, NO_PRESET), *formats]


DUPLICATE_FIELD = _("%(field)s is chosen for more than one column: %(columns)s.")


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("The file holds"),
        choices=UploadKind.choices,
        initial=EntityKind.TRANSACTIONS.value,
    )
    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV, TSV or text, Excel (.xlsx) or Parquet."),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(sorted(UPLOAD_SUFFIXES))}),
    )
    encoding = forms.ChoiceField(label=_("Text encoding"), choices=ENCODINGS, required=False)
    sheet = forms.CharField(
        label=_("Excel sheet"),
        required=False,
        max_length=100,
        help_text=_("Leave empty for the first sheet."),
    )
    preset = forms.ChoiceField(
        label=_("Export format"),
        required=False,
        help_text=_(
            "Patron recognises the format from the columns; choose one only when it picks the "
            "wrong one, or none."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = preset_choices()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        name, kind = cleaned.get("preset"), cleaned.get("kind")
        preset = _preset(name) if name else None
        if preset is not None and kind and str(preset.kind) != kind:
            self.add_error(
                "preset",
                _("%(format)s holds %(holds)s; choose that above, or another format.")
                % {"format": _preset_label(preset), "holds": UploadKind(str(preset.kind)).label},
            )
        return cleaned


class MappingForm(forms.Form):
    """One select per file column: the field it feeds, or not imported."""

    date_format = forms.CharField(
        label=_("Date format"),
        required=False,
        max_length=40,
        help_text=_("Only when the dates are ambiguous, e.g. %d/%m/%Y."),
    )

    def __init__(
        self,
        *args: Any,
        kind: EntityKind,
        columns: list[str],
        mapping: dict[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.columns = list(columns)
        by_column = {column: field for field, column in mapping.items()}
        choices = [("", NOT_IMPORTED)]
        for field in FIELDS[kind]:
            label = field_label(field.name)
            choices.append((field.name, f"{label} *" if field.required else label))
        for i, column in enumerate(self.columns):
            self.fields[f"col_{i}"] = forms.ChoiceField(
                label=column, choices=choices, required=False, initial=by_column.get(column, "")
            )

    def column_fields(self) -> list[tuple[str, forms.BoundField]]:
        return [(column, self[f"col_{i}"]) for i, column in enumerate(self.columns)]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen: dict[str, list[str]] = {}
        for i, column in enumerate(self.columns):
            field = data.get(f"col_{i}")
            if field:
                chosen.setdefault(field, []).append(column)
        for field, columns in chosen.items():
            if len(columns) > 1:
                raise ValidationError(
                    DUPLICATE_FIELD,
                    code="duplicate_field",
                    params={"field": field_label(field), "columns": ", ".join(columns)},
                )
        data["mapping"] = {field: columns[0] for field, columns in chosen.items()}
        return data


class ConfirmForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("Bad rows"),
        choices=ImportMode.choices,
        initial=ImportMode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )


class AnalysisForm(forms.Form):
    as_of = forms.DateField(
        label=_("As of"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty for the day after the last purchase."),
    )
    again = forms.BooleanField(required=False, widget=forms.HiddenInput)
