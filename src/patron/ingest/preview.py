"""What an import of a file would use, before importing it: for a person to look at and correct.

:func:`file_preview` opens the file the way :func:`patron.ingest.importer.import_file` does
(same reader, same preset recognition, same column mapping: :func:`~patron.ingest.importer.
import_plan`) and reads only its first rows. A mapping that lacks a required field is returned
with the gap named, not raised, so that the web page can offer the columns to choose from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.formats import GENERIC
from patron.ingest.importer import ImportOptions, import_plan
from patron.ingest.mapping import EntityKind

SAMPLE_ROWS = 8


@dataclass(frozen=True)
class FilePreview:
    kind: str
    format: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    header_line: int
    columns: list[str]  # the file's column names, in file order
    sample: list[list[Any]]  # [line, cell, cell, ...] for the first rows
    preset: str  # a preset's name, or "generic"
    preset_label: dict[str, str]
    mapping: dict[str, str]  # field -> file column, as detected
    missing: list[str] = field(default_factory=list)  # required fields without a column

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def file_preview(
    path: str | Path,
    *,
    kind: EntityKind,
    options: ImportOptions | None = None,
    rows: int = SAMPLE_ROWS,
) -> FilePreview:
    """The detected preset, the detected mapping and the first ``rows`` rows of ``path``.

    Raises
    ------
    IngestError
        The file cannot be opened or read (nothing about its columns is known).
    """
    options = _small_batches(options or ImportOptions(), rows)
    missing: list[str] = []
    try:
        plan = import_plan(path, kind=kind, options=options)
    except IngestError as error:
        if error.code != IngestErrorCode.MISSING_COLUMN:
            raise
        # The importer's own rule says what is required (a preset may derive a field).
        missing = list((error.extra or {}).get("missing", []))
        plan = import_plan(path, kind=kind, options=options, require=False)
    info = plan.reader.info
    sample: list[list[Any]] = []
    plan.reader.sample_only = True  # the first rows only: no whole-file fast-path scan
    for batch in plan.reader.batches():
        cells = [batch.columns[name].to_pylist() for name in info.column_names]
        for i, line in enumerate(batch.lines.tolist()):
            sample.append([int(line), *[column[i] for column in cells]])
        break
    preset = plan.preset
    return FilePreview(
        kind=str(kind),
        format=str(info.format),
        encoding=info.encoding,
        delimiter=info.delimiter,
        sheet=info.sheet,
        header_line=info.header_line,
        columns=list(info.header),
        sample=sample[:rows],
        preset=preset.name if preset is not None else GENERIC,
        preset_label=dict(preset.label) if preset is not None else {},
        mapping=dict(plan.mapping.columns),
        missing=missing,
    )


def _small_batches(options: ImportOptions, rows: int) -> ImportOptions:
    from dataclasses import replace

    return replace(options, batch_rows=max(1, rows))
