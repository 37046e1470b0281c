"""The service report, survey results and settings, and the public survey answer page (a
signed link, no sign-in). Every change is a POST through :mod:`patron.service.surveys`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _

from patron.accounts.permissions import public, require_permission
from patron.core.errors import PatronError
from patron.insights.prediction_charts import hbars_svg
from patron.service import selectors, surveys
from patron.service.charts import interval_svg
from patron.service.forms import (
    SurveySettingsForm,
    category_choices,
    form_add_errors,
)
from patron.service.models import SurveyKind
from patron.web.views.dashboard import chart_language

VIEW = "accounts.view_tickets"
MANAGE = "accounts.manage_tickets"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


@require_permission(VIEW)
def service_report(request: HttpRequest) -> HttpResponse:
    report = selectors.ticket_report()
    labels = dict(category_choices())
    volume = hbars_svg(
        [(m["month"], float(m["opened"]), f"{m['opened']} · {m['complaints']}")
         for m in report.by_month],
        title=_("Tickets by month (all · complaints)"),
    )  # fmt: skip
    return render(
        request,
        "service/report.html",
        {
            "section": "service",
            "report": report,
            "by_category": [
                {**row, "label": labels.get(row["category"], row["category"])}
                for row in report.by_category
            ],
            "volume_svg": volume,
            "figures": {
                "first_response_hours": _hours(report.first_response_hours),
                "resolution_hours": _hours(report.resolution_hours),
                "first_response_in_sla": _percent(report.first_response_in_sla),
                "resolution_in_sla": _percent(report.resolution_in_sla),
                "reopen_rate": _percent(report.reopen_rate),
                "recovery_rate": _percent(report.recovery_rate),
                "complaints_per_1000": _hours(report.complaints_per_1000_orders),
            },
        },
    )


def _interval_rows(groups: dict[str, Any], key: str, labels: dict[str, str]) -> list[Any]:
    """Rows of an interval chart; groups named in ``labels`` come in its order (tiers, top
    first), the others (months) in their own."""
    order = list(labels)
    if order:
        groups = dict(
            sorted(groups.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
        )
    return [
        (labels.get(name, name), r[key], r["ci_low"], r["ci_high"],
         f"{r[key]:.1f} [{r['ci_low']:.1f}, {r['ci_high']:.1f}] n={r['responses']}")
        for name, r in groups.items()
        if r.get(key) is not None
    ]  # fmt: skip


def _group_rows(nps_by: dict[str, Any], tiers: dict[str, str]) -> list[dict[str, Any]]:
    from patron.analytics.segments import SEGMENTS

    language = chart_language()
    segments = {s.code: s.label.get(language, s.label["en"]) for s in SEGMENTS}
    kinds = (("tier", _("Value tier"), tiers), ("segment", _("Segment"), segments),
             ("store", _("Store"), {}))  # fmt: skip
    rows = []
    for kind, kind_label, labels in kinds:
        groups = nps_by.get(kind, {})
        order = list(labels) or sorted(groups)
        for key in sorted(groups, key=lambda k: order.index(k) if k in order else len(order)):
            r = groups[key]
            rows.append({"kind": kind, "kind_label": kind_label, "key": key,
                         "label": labels.get(key, key), **r})  # fmt: skip
    return rows


@require_permission(VIEW)
def survey_results(request: HttpRequest) -> HttpResponse:
    from patron.analytics.tiers import TIERS
    from patron.service.reports import survey_report

    language = chart_language()
    tiers = {t.code: t.label.get(language, t.label["en"]) for t in TIERS}
    report = survey_report()
    nps_by, csat_by = report["nps_by"], report["csat_by"]
    group_labels = {
        "promoter": _("Promoters"), "passive": _("Passives"), "detractor": _("Detractors")
    }  # fmt: skip
    retention_rows = [
        (group_labels[g], 100 * r["rate"], f"{100 * r['rate']:.1f}% (n={r['respondents']})")
        for g, r in report["retention"]["groups"].items()
        if r["rate"] is not None
    ]
    return render(
        request,
        "service/survey_results.html",
        {
            "section": "service",
            "report": report,
            "nps_month_svg": interval_svg(
                _interval_rows(nps_by["month"], "score", {}), title=_("NPS by month"),
                low=-100, high=100,
            ),
            "nps_tier_svg": interval_svg(
                _interval_rows(nps_by["tier"], "score", tiers), title=_("NPS by value tier"),
                low=-100, high=100,
            ),
            "csat_month_svg": interval_svg(
                _interval_rows(csat_by["month"], "mean", {}), title=_("CSAT by month"),
                low=1, high=5,
            ),
            "drivers_svg": hbars_svg(
                [(surveys.driver_label(d["driver"]), d["share"], f"{100 * d['share']:.0f}%")
                 for d in report["drivers"]["items"]],
                title=_("What drives NPS"),
            ),
            "drivers_top_svg": hbars_svg(
                [(surveys.driver_label(d["driver"]), d["share"], f"{100 * d['share']:.0f}%")
                 for d in report["drivers_top_tiers"]["items"]],
                title=_("What drives NPS in the high and very high tiers"),
            ),
            "retention_svg": hbars_svg(retention_rows, title=_("Bought again within 180 days")),
            "tiers": tiers,
            "group_labels": group_labels,
            "group_rows": _group_rows(nps_by, tiers),
        },
    )  # fmt: skip


@require_permission(VIEW, MANAGE)
def survey_settings(request: HttpRequest) -> HttpResponse:
    forms_by_kind = {}
    for kind in (SurveyKind.NPS, SurveyKind.CSAT):
        current = surveys.survey_settings_get(kind=kind)
        initial = {
            "active": current.active, "every_days": current.every_days,
            "after_order_days": current.after_order_days,
            "link_valid_days": current.link_valid_days, "drivers": current.drivers,
            "ask_comment": current.ask_comment,
        }  # fmt: skip
        bound = request.method == "POST" and request.POST.get("kind") == kind
        form = SurveySettingsForm(request.POST if bound else None, initial=initial, prefix=kind)
        if bound and form.is_valid():
            try:
                surveys.survey_settings_update(kind=kind, **form.cleaned_data)
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                messages.success(request, _("Survey settings saved."))
                return redirect("service:survey_settings")
        forms_by_kind[kind] = form
    return render(
        request,
        "service/survey_settings.html",
        {
            "section": "service",
            "forms": [(kind, SurveyKind(kind).label, f) for kind, f in forms_by_kind.items()],
        },
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@public
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The one-click answer page: a score in the link (``?score=``) is recorded at once; the
    form adds ratings and a comment. Answering again replaces the answer."""
    try:
        invitation = surveys.invitation_from_token(token)
    except PatronError as error:
        status = 410 if error.code == "service.link_expired" else 400
        return render(request, "service/survey_refused.html", {"message": error.message},
                      status=status)  # fmt: skip
    language = request.GET.get("lang") or request.POST.get("lang") or invitation.language
    language = "zh-hans" if language.startswith("zh") else "en"
    with translation.override(language):
        settings = surveys.survey_settings_get(kind=invitation.kind)
        nps = invitation.kind == SurveyKind.NPS
        scores = list(range(0, 11)) if nps else list(range(1, 6))
        errors: list[str] = []
        saved = None
        score = _int(request.POST.get("score") if request.method == "POST" else
                     request.GET.get("score"))  # fmt: skip
        if request.method == "POST" or score is not None:
            drivers = {
                key: value
                for key in settings.drivers
                if (value := _int(request.POST.get(f"driver_{key}"))) is not None
            }
            try:
                saved = surveys.survey_answer(
                    token=token, score=score, drivers=drivers,
                    comment=request.POST.get("comment", ""),
                )  # fmt: skip
            except ValidationError as error:
                errors = error.messages
            except PatronError as error:
                errors = [error.message]
        current = saved or getattr(invitation, "response", None)
        context = {
            "invitation": invitation,
            "token": token,
            "language": language,
            "nps": nps,
            "scores": scores,
            "chosen": current.nps if current and nps else (current.csat if current else None),
            "drivers": [
                (
                    key,
                    surveys.driver_label(key),
                    (current.drivers or {}).get(key) if current else None,
                )
                for key in settings.drivers
            ],
            "ask_comment": settings.ask_comment,
            "comment": current.comment if current else "",
            "saved": saved is not None and request.method == "POST",
            "recorded": saved is not None,
            "errors": errors,
        }
        return render(request, "service/survey_answer.html", context,
                      status=400 if errors else 200)  # fmt: skip
