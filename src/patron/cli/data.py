"""init, import, stats."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from patron.cli.common import JsonOption, console, err_console, print_json, run_with_django

import_app = typer.Typer(
    help="Import customers, products or transactions from a file.", no_args_is_help=True
)


def init() -> None:
    """Create or migrate the database and write a secret key if there is none (idempotent)."""

    def run() -> None:
        from patron.core.setup import database_init

        database_init(verbose=True)
        console.print("[green]Database ready.[/green]")

    run_with_django(run, migrated=False)


MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help="field=column, for a column Patron does not recognise "
        "(repeatable), e.g. --map customer_id=会员卡号.",
    ),
]
DateFormatOption = Annotated[
    str | None,
    typer.Option(
        "--date-format",
        help="strptime format of the dates, e.g. %d/%m/%Y; needed "
        "only when the dates are ambiguous.",
    ),
]
EncodingOption = Annotated[
    str | None, typer.Option("--encoding", help="Text encoding (default: detected; utf-8, gbk...).")
]
DelimiterOption = Annotated[
    str | None, typer.Option("--delimiter", help="Column separator (default: detected).")
]
SheetOption = Annotated[str | None, typer.Option("--sheet", help="Excel sheet (default: first).")]
SkipBadOption = Annotated[
    bool, typer.Option("--skip-bad", help="Import the good rows; write the bad ones to --rejects.")
]
RejectsOption = Annotated[
    Path | None, typer.Option("--rejects", help="CSV file for rejected rows and their reasons.")
]
PresetOption = Annotated[
    str | None,
    typer.Option(
        "--preset",
        help="A platform export (see `patron import formats`), or generic to turn "
        "recognition off. Default: recognised from the header.",
    ),
]
SourceOption = Annotated[
    str,
    typer.Option(
        "--source",
        help="Name of the system the file comes from (a shop, a platform): order ids are "
        "unique per source, and the consents of a customers file record it.",
    ),
]


def _import(
    kind: str,
    file: Path,
    mapping: list[str] | None,
    date_format: str | None,
    encoding: str | None,
    delimiter: str | None,
    sheet: str | None,
    skip_bad: bool,
    rejects: Path | None,
    source: str,
    preset: str | None,
    as_json: bool,
) -> None:
    def run() -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from patron.ingest.errors import IngestError
        from patron.ingest.importer import ImportOptions, import_file
        from patron.ingest.mapping import EntityKind, parse_map_options

        if skip_bad and rejects is None:
            reject_path = file.with_name(file.stem + ".rejects.csv")
        else:
            reject_path = rejects
        options = ImportOptions(
            mapping=parse_map_options(mapping or []),
            date_format=date_format,
            encoding=encoding,
            delimiter=delimiter,
            sheet=sheet,
            skip_bad=skip_bad,
            rejects=reject_path,
            source=source,
            preset=preset,
        )
        with Progress(
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            TextColumn("{task.completed:,} rows"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=as_json,
        ) as progress:
            task = progress.add_task(f"Importing {file.name}", total=None)
            try:
                report = import_file(
                    file,
                    kind=EntityKind(kind),
                    options=options,
                    progress=lambda rows: progress.update(task, completed=rows),
                )
            except IngestError as error:
                hint = _other_kind_hint(error, kind=kind, file=file, mapped=bool(mapping))
                if hint is None:
                    raise
                raise IngestError(
                    f"{error.message} {hint}", code=error.code, extra=error.extra
                ) from error
        if as_json:
            data = report.as_dict()
            data["rejects_file"] = str(reject_path) if reject_path and report.rejected else None
            print_json(data)
        else:
            _print_report(report, reject_path)
        if report.rejected and not skip_bad:
            raise typer.Exit(1)

    run_with_django(run)


def _print_report(report, rejects: Path | None) -> None:  # type: ignore[no-untyped-def]
    if report.preset_label:
        label = report.preset_label
        console.print(
            f"Detected: {escape(str(label.get('en')))} ({escape(str(label.get('zh-hans')))}) "
            f"[dim]--preset {escape(str(report.preset))}[/dim]",
            highlight=False,
        )
    # An Excel or Parquet file has no text encoding, a customer file may have no date column.
    details = [f"encoding {report.encoding}"] if report.encoding else []
    details += [f"dates {report.date_format}"] if report.date_format else []
    console.print(
        f"Read {_rows(report.read)} ({report.reading}) from {escape(str(report.path))}"
        + (f" [dim]({', '.join(details)})[/dim]" if details else ""),
        highlight=False,
    )
    # Each field with its column and the column's first cells, so a quantity taken as the
    # amount shows at a glance: "amount←AMOUNT (1, 2, 1)".
    mapped = "; ".join(
        f"{field}←{column}" + _examples(report.examples.get(field))
        for field, column in report.columns.items()
    )
    # Column names and cell values are the file's text, never markup ("[/x]" in a header).
    console.print(f"Columns: {escape(mapped)}", highlight=False)
    if report.ignored_columns:
        ignored = ", ".join(report.ignored_columns)
        console.print(f"Ignored columns: {escape(ignored)}", highlight=False)
    if report.skipped:
        console.print(f"Skipped {report.skipped:,} blank, preamble or summary lines.")
    for error in report.errors[:20]:
        value = "" if error.value is None else f" {error.value!r}"
        console.print(
            f"[red]line {error.line}[/red] {escape(f'{error.column}{value}: {error.message}')}",
            highlight=False,
        )
    more = report.rejected - min(len(report.errors), 20)
    if more > 0:
        console.print(f"... {more:,} more rejected {'row' if more == 1 else 'rows'}.")
    if report.committed:
        console.print(
            f"[green]Inserted {report.inserted:,}, updated {report.updated:,}, unchanged "
            f"{report.unchanged:,}[/green]; rejected {report.rejected:,}; new customers "
            f"{report.customers_created:,}. ({report.seconds:.1f} s)"
        )
        if report.rejected and rejects is not None:
            console.print(f"Rejected rows written to {escape(str(rejects))}", highlight=False)
    else:
        console.print(
            f"[red]Nothing imported:[/red] {_rows(report.rejected)} rejected. Fix "
            f"{'it' if report.rejected == 1 else 'them'}, or use --skip-bad to import the good "
            "rows and collect the bad ones in a file."
        )


def _examples(cells: list[str] | None) -> str:
    if not cells:
        return ""
    shown = [c if len(c) <= 24 else c[:23] + "…" for c in cells]
    return f" ({', '.join(shown)})"


def _other_kind_hint(error: Exception, *, kind: str, file: Path, mapped: bool) -> str | None:
    """For a file that lacks a required column of ``kind`` but has every one of another kind
    (a member list given to `import transactions`): the command that fits it."""
    from patron.ingest.errors import IngestError, IngestErrorCode
    from patron.ingest.mapping import EntityKind, resolve_columns

    if not isinstance(error, IngestError) or error.code != IngestErrorCode.MISSING_COLUMN:
        return None
    columns = error.extra.get("columns") if isinstance(error.extra, dict) else None
    if mapped or not columns:
        return None
    for other in ("transactions", "customers", "products"):
        if other == kind:
            continue
        try:
            resolve_columns(columns, EntityKind(other))
        except IngestError:
            continue
        return f"If it is a {other} file, import it with: patron import {other} {file}"
    return None


def _rows(count: int) -> str:
    return f"{count:,} row" if count == 1 else f"{count:,} rows"


def _make_import_command(kind: str, doc: str):  # type: ignore[no-untyped-def]
    def command(
        file: Annotated[
            Path,
            typer.Argument(
                exists=True,
                dir_okay=False,
                readable=True,
                help="CSV, TSV, text, .xlsx or .parquet file.",
            ),
        ],
        mapping: MapOption = None,
        date_format: DateFormatOption = None,
        encoding: EncodingOption = None,
        delimiter: DelimiterOption = None,
        sheet: SheetOption = None,
        skip_bad: SkipBadOption = False,
        rejects: RejectsOption = None,
        source: SourceOption = "default",
        preset: PresetOption = None,
        as_json: JsonOption = False,
    ) -> None:
        _import(
            kind,
            file,
            mapping,
            date_format,
            encoding,
            delimiter,
            sheet,
            skip_bad,
            rejects,
            source,
            preset,
            as_json,
        )

    command.__doc__ = doc
    return command


import_app.command("transactions")(
    _make_import_command(
        "transactions", "Import orders (one per row) or order lines (with product columns)."
    )
)
import_app.command("customers")(
    _make_import_command("customers", "Import or update customer records.")
)
import_app.command("products")(_make_import_command("products", "Import or update products."))


@import_app.command("formats")
def formats(as_json: JsonOption = False) -> None:
    """List the platform exports Patron recognises, with the columns it takes from each."""
    from rich.table import Table

    from patron.ingest.formats import load_presets

    presets = load_presets()
    if as_json:
        print_json(
            [
                {
                    "name": p.name,
                    "platform": p.platform,
                    "kind": str(p.kind),
                    "label": p.label,
                    "columns": {k: list(v) for k, v in p.columns.items()},
                    "statuses": p.statuses,
                    "download": p.download,
                }
                for p in presets
            ]
        )
        return
    table = Table("preset", "export", "导出文件", "columns taken (field ← column)")
    for p in presets:
        columns = ", ".join(f"{k} ← {v[0]}" for k, v in p.columns.items())
        table.add_row(p.name, p.label.get("en", ""), p.label.get("zh-hans", ""), columns)
    console.print(table)
    console.print("Force one with --preset NAME; --preset generic turns recognition off.")


def stats(as_json: JsonOption = False) -> None:
    """Counts of customers, products and orders, and net revenue."""

    def run() -> None:
        from patron.sales.selectors import store_stats

        result = store_stats()
        if as_json:
            print_json(result)
        else:
            for key, value in result.items():
                console.print(f"{key:>10}: {value:,}" if not isinstance(value, str) else value)

    run_with_django(run)
