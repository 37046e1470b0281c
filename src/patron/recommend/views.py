"""The export of the latest run's lists: CSV, UTF-8 with a BOM (Excel on Chinese Windows)."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.utils.translation import get_language

from patron.accounts.permissions import require_permission
from patron.recommend.selectors import recommendation_export_rows, recommendation_run_latest

EXPORT_COLUMNS = ("customer_id", "list", "rank", "sku", "score", "reason")


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_permission("recommend.view_recommendation", "accounts.export_customers")
def export(request: HttpRequest) -> StreamingHttpResponse:
    run = recommendation_run_latest()
    if run is None:
        raise Http404
    zh = (get_language() or "en").startswith("zh")
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(EXPORT_COLUMNS)
        for r in recommendation_export_rows(run=run).iterator(chunk_size=5000):
            reason = r.reason_zh if zh else r.reason_en
            yield writer.writerow(
                [r.customer.external_id, r.list, r.rank, r.product.sku, f"{r.score:.6f}", reason]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="recommendations-{run.as_of:%Y%m%d}.csv"'
    )
    return response
