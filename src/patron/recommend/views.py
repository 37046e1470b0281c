"""The export of the latest run's lists: CSV, UTF-8 with a BOM (Excel on Chinese Windows)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import get_language

from patron.accounts.permissions import require_permission
from patron.core.cells import csv_download
from patron.recommend.selectors import recommendation_export_rows, recommendation_run_latest
from patron.web.views.methods import post_only

EXPORT_COLUMNS = ("customer_id", "list", "rank", "sku", "score", "reason")


@require_permission("recommend.view_recommendation", "accounts.export_customers")
def export(request: HttpRequest) -> StreamingHttpResponse:
    run = recommendation_run_latest()
    if run is None:
        raise Http404
    zh = (get_language() or "en").startswith("zh")
    rows = (
        [
            r.customer.external_id,
            r.list,
            r.rank,
            r.product.sku,
            f"{r.score:.6f}",
            r.reason_zh if zh else r.reason_en,
        ]
        for r in recommendation_export_rows(run=run).iterator(chunk_size=5000)
    )
    return csv_download(
        filename=f"recommendations-{run.as_of:%Y%m%d}.csv", header=EXPORT_COLUMNS, rows=rows
    )


@require_permission("recommend.change_recommendsettings")
def rules(request: HttpRequest) -> HttpResponse:
    """The shop's rules: list-wide settings and per-product never / pinned."""
    from django.contrib import messages
    from django.core.exceptions import ValidationError
    from django.shortcuts import redirect, render
    from django.utils.translation import gettext as _

    from patron.recommend.forms import ProductRuleForm, RecommendSettingsForm
    from patron.recommend.models import ProductRule
    from patron.recommend.services import (
        product_rule_delete,
        product_rule_set,
        recommend_settings_get,
        recommend_settings_update,
    )

    current = recommend_settings_get()
    settings_form = RecommendSettingsForm(
        initial={
            "excluded_categories": ", ".join(current.excluded_categories or []),
            "margin_floor": current.margin_floor,
            "max_per_category": current.max_per_category,
        }
    )
    rule_form = ProductRuleForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "settings":
            settings_form = RecommendSettingsForm(request.POST)
            if settings_form.is_valid():
                recommend_settings_update(
                    excluded_categories=settings_form.categories(),
                    margin_floor=settings_form.cleaned_data["margin_floor"],
                    max_per_category=settings_form.cleaned_data["max_per_category"],
                )
                messages.success(request, _("Saved. The next recommendation run uses these rules."))
                return redirect("recommend:rules")
        elif action == "delete":
            product_rule_delete(rule_id=int(request.POST.get("rule", "0") or 0))
            messages.success(request, _("Rule removed."))
            return redirect("recommend:rules")
        else:
            rule_form = ProductRuleForm(request.POST)
            if rule_form.is_valid():
                try:
                    product_rule_set(**rule_form.cleaned_data)
                except ValidationError as error:
                    rule_form.add_error(None, error)
                else:
                    messages.success(
                        request, _("Saved. The next recommendation run uses these rules.")
                    )
                    return redirect("recommend:rules")
        status = 400
    context = {
        "section": "settings",
        "settings_form": settings_form,
        "rule_form": rule_form,
        "rules": ProductRule.objects.select_related("product").order_by("kind", "product__sku"),
    }
    return render(request, "recommend/rules.html", context, status=status)


@require_permission("recommend.view_recommendationrun")
def runs(request: HttpRequest) -> HttpResponse:
    """The latest runs, and (with the permission) the button that starts one."""
    from django.shortcuts import render
    from django.utils import timezone

    from patron.recommend.forms import RunForm
    from patron.recommend.selectors import recommendation_run_list

    form = RunForm(initial={"as_of": timezone.localdate(), "per_list": 10})
    context = {"section": "settings", "form": form, "runs": recommendation_run_list()}
    return render(request, "recommend/runs.html", context)


@require_permission("recommend.view_recommendationrun", "recommend.add_recommendationrun")
@post_only("recommend:runs")
def run_start(request: HttpRequest) -> HttpResponse:
    """Queue a run as a background job; its page shows the steps and comes back here."""
    from django.contrib import messages
    from django.shortcuts import redirect, render

    from patron.core.errors import PatronError
    from patron.recommend.forms import RunForm
    from patron.recommend.selectors import recommendation_run_list
    from patron.recommend.tasks import recommendation_run_start

    form = RunForm(request.POST)
    if not form.is_valid():
        context = {"section": "settings", "form": form, "runs": recommendation_run_list()}
        return render(request, "recommend/runs.html", context, status=400)
    try:
        job = recommendation_run_start(
            user=request.user,
            as_of=form.cleaned_data["as_of"],
            per_list=form.cleaned_data["per_list"],
        )
    except PatronError as error:
        messages.error(request, error.message)
        job_id = (error.extra or {}).get("job")
        if job_id:
            return redirect("web:job_detail", job_id=job_id)
        return redirect("recommend:runs")
    return redirect("web:job_detail", job_id=job.pk)
