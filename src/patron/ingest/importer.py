"""Import a file: read, map, validate, stage, merge, report. One path for CLI, API and web.

All-or-nothing by default: one bad row and the transaction is rolled back, so nothing is
half-imported. With ``skip_bad`` the good rows go in and the rejects are written to a CSV.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from django.conf import settings
from django.db import DatabaseError, transaction

from patron.core.cells import neutralise_row
from patron.ingest.archives import open_import_table
from patron.ingest.cleaning import normalise_header
from patron.ingest.errors import IngestError, IngestErrorCode, RowErrorCode
from patron.ingest.formats import (
    GENERIC,
    Preset,
    detect_preset,
    load_presets,
    preset_by_name,
    trailer_pattern,
)
from patron.ingest.i18n import gettext, gettext_noop, join_sentences
from patron.ingest.mapping import ColumnMapping, EntityKind, known_column_names, resolve_columns
from patron.ingest.order_hooks import orders_hooks
from patron.ingest.order_lines import order_lines_prepare
from patron.ingest.pipeline import (
    BatchResult,
    FillDown,
    Prepare,
    ReadSummary,
    TrailerCut,
    process,
    read_in_background,
)
from patron.ingest.reading import RawBatch, TableReader
from patron.ingest.sinks import TransactionSink, make_sink
from patron.ingest.staging import stage_table
from patron.ingest.validation import DateFormatHolder, RowError, generic_status
from patron.sales.models import DEFAULT_SOURCE

MAX_REPORTED_ERRORS = 1000


@dataclass(frozen=True)
class ImportOptions:
    mapping: Mapping[str, str] = field(default_factory=dict)
    date_format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    skip_bad: bool = False
    rejects: Path | None = None
    source: str = DEFAULT_SOURCE
    preset: str | None = None  # a preset's name, "generic" to turn detection off, None: detect
    batch_rows: int = 50_000
    # The mapping names every field to import: no preset columns, no synonyms (the web form,
    # where a person has seen and corrected the whole mapping).
    mapping_complete: bool = False
    # Read and validate only: errors, counts and rejects as an import would report them,
    # nothing written (the web's check before the import).
    dry_run: bool = False


@dataclass
class ImportReport:
    kind: str
    path: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped: int = 0  # lines that are not data: preamble, blank, trailer (never errors)
    skipped_lines: dict[str, int] = field(default_factory=dict)  # the same, by reason
    errors: list[RowError] = field(default_factory=list)
    committed: bool = False
    preset: str = GENERIC
    preset_label: dict[str, str] = field(default_factory=dict)
    reading: str = ""  # "orders" (one row, one order) or "order lines"
    customers_created: int = 0
    products_created: int = 0
    lines: int = 0
    lines_pending: int = 0  # order lines waiting for their order's file
    # Status texts the preset does not know, with their row counts: kept, never revenue.
    unknown_statuses: dict[str, int] = field(default_factory=dict)
    encoding: str | None = None
    delimiter: str | None = None
    date_format: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)  # field -> first cells
    ignored_columns: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["errors"] = [e.as_dict() for e in self.errors]
        return data


ProgressCallback = Callable[[int], None]


def import_file(
    path: str | Path,
    *,
    kind: EntityKind,
    options: ImportOptions | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import ``path`` as ``kind``; returns the report (``committed`` says if anything was kept).

    Raises
    ------
    IngestError
        The file cannot be read or lacks a required column (nothing is imported).
    """
    plan = import_plan(path, kind=kind, options=options or ImportOptions())
    mapping, preset, reader = plan.mapping, plan.preset, plan.reader
    report = ImportReport(
        kind=str(kind),
        path=str(path),
        encoding=reader.info.encoding,
        delimiter=reader.info.delimiter,
        columns=dict(mapping.columns),
        ignored_columns=list(mapping.unmapped) if kind is EntityKind.TRANSACTIONS else [],
        preset=preset.name if preset else GENERIC,
        preset_label=dict(preset.label) if preset else {},
    )
    return _run(report, mapping, plan.options, progress, reader=reader, preset=preset)


@dataclass(frozen=True)
class ImportPlan:
    """An opened file with its preset and column mapping: what an import of it would use."""

    reader: TableReader
    preset: Preset | None
    mapping: ColumnMapping
    options: ImportOptions  # the source defaults to the preset's platform


def import_plan(
    path: str | Path, *, kind: EntityKind, options: ImportOptions, require: bool = True
) -> ImportPlan:
    """Open ``path``, recognise its preset and map its columns, as :func:`import_file` does.

    With ``require=False`` a mapping that lacks required fields is returned as it is (the web
    shows it for correction) instead of raising.

    Raises
    ------
    IngestError
        The file cannot be opened, or (``require``) a required field has no column.
    """
    forced = preset_by_name(options.preset) if options.preset else None
    known = [*known_column_names(kind)]
    for candidate in [forced] if forced else load_presets():
        if candidate.kind is kind:
            known += candidate.known_columns()
    reader = open_import_table(
        path,
        kind=kind,
        encoding=options.encoding,
        delimiter=options.delimiter,
        sheet=options.sheet,
        known_columns=known,
        batch_rows=options.batch_rows,
    )
    header = reader.info.header
    preset = None if options.preset == GENERIC else forced or detect_preset(header, kind)
    if options.mapping_complete:
        overrides, synonyms = dict(options.mapping), False
    else:
        overrides = {**(preset.mapping(header) if preset else {}), **options.mapping}
        # A preset's own table decides; generic synonyms would add columns it leaves out on
        # purpose (宝贝标题 in an order file is a title list, not a product).
        synonyms = preset is None
    try:
        mapping = resolve_columns(
            header,
            kind,
            overrides,
            synonyms=synonyms,
            require=require,
            required=preset.required_fields() if preset is not None else None,
        )
        if preset is not None:
            mapping = preset.refine(mapping, header, require=require)
    except IngestError as error:
        raise _with_closest_preset(error, header, kind, preset) from None
    if preset is not None and options.source == DEFAULT_SOURCE:
        options = replace(options, source=preset.platform)
    return ImportPlan(reader=reader, preset=preset, mapping=mapping, options=options)


def _with_closest_preset(
    error: IngestError, header: Sequence[str], kind: EntityKind, detected: Preset | None = None
) -> IngestError:
    """Add the preset the file is closest to, so a nearly-recognised export says so, and
    the names that preset knows for the missing fields (the --map to use)."""
    scored = [(p.score(header), p) for p in load_presets() if p.kind is kind]
    scored = [item for item in scored if item[0] > 0]
    if not scored or not isinstance(error.extra, dict):
        return error
    score, closest = max(scored, key=lambda item: item[0])
    label = closest.display_label()
    # The export is named when it was detected, or when the file is nearly recognised as it
    # (most of its columns, or one short of recognition): a column or two shared with an
    # export (a date, a total) says nothing about where a file comes from. Its column names
    # still give the --map to use.
    named = (detected is not None and detected.name == closest.name) or (
        score >= 2 and (2 * score > len(closest.signature) or score >= closest.min_match - 1)
    )
    parts = [error.message]
    if detected is not None and detected.name == closest.name:
        parts.append(
            gettext("The file looks like a %(export)s, but lacks that column.") % {"export": label}
        )
    elif named:
        parts.append(
            gettext(
                "Closest known export: %(export)s (%(score)s of its columns found); "
                "try --preset %(preset)s."
            )
            % {"export": label, "score": score, "preset": closest.name}
        )
    present = {normalise_header(h): h for h in header}
    known, maps = [], []
    for name in error.extra.get("missing", []):
        candidates = closest.columns.get(name, ())
        found = [present[k] for c in candidates if (k := normalise_header(c)) in present]
        if found:  # the file has the preset's column: name it
            maps.append(f"--map {name}={found[0]}")
        elif candidates and named:
            names = gettext(" or ").join(candidates)
            known.append(gettext("%(field)s is %(columns)s") % {"field": name, "columns": names})
            maps.append(f"--map {name}=" + gettext("<your column>"))
    if known:
        parts.append(
            gettext("In that export %(columns)s; if your file names it otherwise: %(maps)s.")
            % {"columns": "; ".join(known), "maps": " ".join(maps)}
        )
    elif maps:
        parts.append(gettext("%(maps)s.") % {"maps": " ".join(maps)})
    if len(parts) == 1:
        return error
    message = join_sentences(parts)
    extra = {**error.extra, "closest": closest.name} if named else error.extra
    return IngestError(message, code=error.code, extra=extra)


def import_records(
    records: list[dict[str, Any]], *, kind: EntityKind, options: ImportOptions | None = None
) -> ImportReport:
    """Import records given as field -> value dicts (the API): same validation and writers.

    An error's ``line`` is the record's position in the list, counted from 1.
    """
    options = options or ImportOptions()
    names = list(dict.fromkeys(name for record in records for name in record))
    columns = {
        name: pa.array(
            [None if r.get(name) is None else str(r[name]) for r in records], pa.string()
        )
        for name in names
    }
    batch = RawBatch(lines=np.arange(1, len(records) + 1, dtype=np.int64), columns=columns)
    mapping = resolve_columns(names, kind, {n: n for n in names if n in _field_names(kind)})
    report = ImportReport(kind=str(kind), path="(api)", columns=dict(mapping.columns))
    return _run(report, mapping, options, None, records=batch)


def _field_names(kind: EntityKind) -> set[str]:
    from patron.ingest.mapping import FIELDS

    return {f.name for f in FIELDS[kind]}


def _run(
    report: ImportReport,
    mapping: ColumnMapping,
    options: ImportOptions,
    progress: ProgressCallback | None,
    *,
    reader: TableReader | None = None,
    records: RawBatch | None = None,
    preset: Preset | None = None,
) -> ImportReport:
    started = time.perf_counter()
    kind = mapping.kind
    header = tuple(reader.info.column_names) if reader is not None else ()
    date_format = DateFormatHolder(
        options.date_format,
        explicit=options.date_format is not None,
        prefer=preset.date_order if preset is not None else None,
    )
    preamble = len(reader.skipped) if reader is not None else 0  # before reading: preamble only
    rejects = _RejectsWriter(options.rejects, header) if options.rejects else None
    summary = ReadSummary()
    prepare = _preparer(kind, mapping, preset)
    status_of = preset.status_of if preset is not None else generic_status
    if reader is not None:
        results = read_in_background(
            reader,
            mapping,
            tz=settings.TIME_ZONE,
            date_format=date_format,
            prepare=prepare,
            summary=summary,
            status_of=status_of,
            trailers=TrailerCut(trailer_pattern(preset.trailers if preset else ())),
            fill_down=_fill_down(mapping, preset),
        )
    else:
        assert records is not None
        results = process(
            iter([records]),
            mapping,
            tz=settings.TIME_ZONE,
            date_format=date_format,
            prepare=prepare,
        )
    try:
        with transaction.atomic():
            hooks = _orders_hooks_before(kind, options)
            sink = (
                None
                if options.dry_run
                else make_sink(kind, mapping, source=options.source, preset=preset)
            )
            skipped_before = report.skipped
            with _stopped_on_failure(sink):
                _consume(results, sink, report, rejects, options, progress)
                trailer = report.skipped - skipped_before
                for problem in summary.problems:  # the first ones; the others are counted
                    report.rejected += 1
                    code = RowErrorCode(getattr(problem, "code", RowErrorCode.ROW_SHAPE))
                    _keep_errors(report, [RowError(problem.line, "", None, problem.message, code)])
                    if rejects is not None:
                        rejects.write_problem(problem.line, problem.message)
                report.rejected += len(summary.problems) - len(list(summary.problems))
                report.skipped += summary.skipped
                report.skipped_lines = {
                    "preamble": preamble,
                    "blank": summary.skipped - preamble,
                    "trailer": trailer,
                }
                report.date_format = summary.date_format if reader is not None else date_format.fmt
                report.reading = sink.reading if sink is not None else _reading(mapping)
                if sink is None:
                    pass  # a dry run: nothing was written, nothing is kept
                elif report.rejected and not options.skip_bad:
                    sink.close()
                    transaction.set_rollback(True)
                else:
                    sink.finish(report)
                    # Before close: a hook may read what the sink staged (changed_customers).
                    _orders_hooks_after(hooks, options, sink=sink, changed=bool(report.updated))
                    sink.close()
                    report.committed = True
    except (DatabaseError, *_DRIVER_ERRORS) as error:
        # Validation should leave nothing for the database to refuse; when it does, say so
        # plainly (the transaction is rolled back: nothing of the file is kept).
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if _busy(error):  # another import holds the tables (two first imports at once)
            raise IngestError(
                gettext(STORE_BUSY), code=IngestErrorCode.STORE_BUSY, extra={"error": reason}
            ) from error
        raise IngestError(
            gettext(DATABASE_REFUSED) % {"error": reason},
            code=IngestErrorCode.DATABASE_REFUSED,
            extra={"error": reason},
        ) from error
    finally:
        if rejects is not None:
            rejects.close()
    report.errors.sort(key=lambda e: e.line)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


# -- apps acting on written orders (loyalty points): hooks they register, set-based --------


def _orders_hooks_before(kind: EntityKind, options: ImportOptions) -> list[tuple[Any, Any]]:
    """Each registered orders hook with its marker, for an import that writes orders."""
    if kind is not EntityKind.TRANSACTIONS or options.dry_run:
        return []
    return [(hook, hook.before()) for hook in orders_hooks()]


def _orders_hooks_after(
    hooks: list[tuple[Any, Any]], options: ImportOptions, *, sink: Any, changed: bool
) -> None:
    changed_customers = getattr(sink, "changed_customers", None)
    touched = changed_customers() if changed_customers is not None else None
    for hook, marker in hooks:
        if hook.touched:
            hook.after(marker, source=options.source, changed=changed, touched=touched)
        else:
            hook.after(marker, source=options.source, changed=changed)


@contextlib.contextmanager
def _stopped_on_failure(sink: Any) -> Iterator[None]:
    """Before the rollback, a sink writing on a thread of its own must stop first, or a
    queued batch would be written after it, outside any transaction."""
    try:
        yield
    except BaseException:
        if isinstance(sink, TransactionSink):
            sink.abort()
        raise


def _consume(
    results: Iterator[BatchResult],
    sink: Any,
    report: ImportReport,
    rejects: _RejectsWriter | None,
    options: ImportOptions,
    progress: ProgressCallback | None,
) -> None:
    """Count, report and write each batch (all-or-nothing: no writes after a rejection)."""
    for result in results:
        report.examples = report.examples or result.examples
        report.read += result.read
        report.skipped += result.skipped
        report.rejected += result.rejected
        _keep_errors(report, result.errors)
        if rejects is not None:
            rejects.write_rows(result.reject_rows)
        writes = options.skip_bad or report.rejected == 0
        if sink is not None and result.prepared is not None and writes:
            sink.write(result.prepared)
        if progress is not None:
            progress(report.read)


def _reading(mapping: ColumnMapping) -> str:
    """What a row of the file is, as the sinks name it (for a dry run, which has none)."""
    if mapping.kind is EntityKind.TRANSACTIONS:
        return "order lines" if mapping.is_item_lines else "orders"
    return str(mapping.kind)


STORE_BUSY = gettext_noop(
    "Another import is writing to the same tables at this moment, so nothing of this file was "
    "imported: try again when it has finished."
)
# SQLSTATEs of a lock conflict: deadlock_detected, lock_not_available, serialization_failure.
_BUSY_STATES = frozenset({"40P01", "55P03", "40001"})


def _driver_errors() -> tuple[type[BaseException], ...]:
    """The PostgreSQL driver's own errors: the order stream writes on a raw connection, on a
    thread of its own, so its errors come unwrapped by Django."""
    try:
        import psycopg
    except ImportError:
        return ()
    return (psycopg.Error,)


_DRIVER_ERRORS = _driver_errors()


def _busy(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if getattr(seen, "sqlstate", None) in _BUSY_STATES:
            return True
        if "database is locked" in str(seen):  # SQLite past its busy timeout
            return True
        seen = seen.__cause__
    return False


DATABASE_REFUSED = gettext_noop(
    "The database refused the import, so nothing of the file was imported: %(error)s"
)

_ORDER_LEVEL_FIELDS = (
    "customer_id",
    "ordered_at",
    "amount",
    "cost",
    "store",
    "channel",
    "status",
    "refund",
    "paid_at",
    "original_order_id",
    "buyer_phone",
    "cancelled_at",
)


def _fill_down(mapping: ColumnMapping, preset: Preset | None) -> FillDown | None:
    if preset is None or not preset.fill_down or not mapping.has("order_id"):
        return None
    columns = [mapping.columns[f] for f in _ORDER_LEVEL_FIELDS if mapping.has(f)]
    return FillDown(mapping.columns["order_id"], columns)


def _preparer(kind: EntityKind, mapping: ColumnMapping, preset: Preset | None) -> Prepare:
    """The pure step that turns validated columns into what the sink writes."""
    if kind is EntityKind.TRANSACTIONS:
        if preset is not None and preset.rows == "order_lines":
            return order_lines_prepare
        return functools.partial(_stage_prepare, item_lines=mapping.is_item_lines, preset=preset)
    return _records_prepare


def _stage_prepare(
    columns: dict[str, pa.Array], lines: np.ndarray, *, item_lines: bool, preset: Preset | None
) -> pa.Table:
    return stage_table(columns, lines, item_lines=item_lines, preset=preset)


def _records_prepare(columns: dict[str, pa.Array], lines: np.ndarray) -> list[dict[str, Any]]:
    names = list(columns)
    values = [columns[n].to_pylist() for n in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _keep_errors(report: ImportReport, errors: list[RowError]) -> None:
    room = MAX_REPORTED_ERRORS - len(report.errors)
    if room > 0:
        report.errors.extend(errors[:room])


class _RejectsWriter:
    """Rejected rows as they were in the file, with the line and the reason, for fixing."""

    def __init__(self, path: Path, header: tuple[str, ...]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._file)
        self._header = header
        # in the importer's language (a browser import runs in the requester's): 行号, 列, 原因
        from django.utils.translation import gettext

        labels = [gettext("line"), gettext("column"), gettext("reason")]
        self._writer.writerow(neutralise_row([*labels, *header]))

    def write_rows(self, rows: list[list[Any]]) -> None:
        self._writer.writerows(map(neutralise_row, rows))  # the file's text, never a formula

    def write_problem(self, line: int, message: str) -> None:
        self._writer.writerow(neutralise_row([line, "", message]))

    def close(self) -> None:
        self._file.close()
