"""The customer 360 page's panel: both lists with their reasons, beside the latest evaluation."""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from patron.web.panels import MAIN, Panel, PanelContext, customer_panel_register

METHOD_LABELS = {
    "patron": _("Patron"),
    "own_top_frequency": _("Own top items"),
    "top_popular": _("Top popular"),
    "item_knn": _("Item-kNN"),
}


def _recommendations(context: PanelContext) -> dict[str, Any]:
    from patron.recommend.models import ListKind
    from patron.recommend.selectors import customer_recommendations, recommendation_run_latest

    run = recommendation_run_latest()
    if run is None:
        return {"run": None}
    zh = (get_language() or "en").startswith("zh")
    lists = []
    for kind in (ListKind.BUY_AGAIN, ListKind.TRY_NEW):
        rows = customer_recommendations(
            customer=context.customer, list=kind, n=run.per_list, run=run
        )
        lists.append(
            {
                "kind": kind.value,
                "label": kind.label,
                "items": [{"r": r, "reason": r.reason_zh if zh else r.reason_en} for r in rows],
            }
        )
    evaluation = []
    scores = (run.evaluation or {}).get("scores", {})
    for kind in (ListKind.BUY_AGAIN, ListKind.TRY_NEW):
        for method, label in METHOD_LABELS.items():
            s = scores.get(kind.value, {}).get(method)
            if s:
                evaluation.append(
                    {
                        "list": kind.label,
                        "method": label,
                        "ours": method == "patron",
                        "recall": f"{s['recall']:.3f}",
                        "ndcg": f"{s['ndcg']:.3f}",
                        "hit_rate": f"{s['hit_rate']:.3f}",
                    }
                )
    return {
        "run": run,
        "lists": lists,
        "evaluation": evaluation,
        "days": (run.evaluation or {}).get("days"),
    }


def register_panels() -> None:
    customer_panel_register(
        Panel(
            "recommendations",
            _("Recommendations"),
            "recommend/panel.html",
            _recommendations,
            "recommend.view_recommendation",
            column=MAIN,
            order=18,
        )
    )
