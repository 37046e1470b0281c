"""Loading presets from TOML and recognising one from a file's header."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources

from patron.ingest.cleaning import normalise_header
from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.mapping import FIELDS, EntityKind

GENERIC = "generic"
STORED_STATUSES = {"completed", "open", "unpaid", "cancelled", "refunded", "unknown"}

# Summary lines that end a table in many exports, preset or not, matched on a row's first
# filled cell: Alipay's '#----...' and '#交易合计：' lines, a totals row's label.
GENERIC_TRAILERS = (
    r"^#-{3,}",
    r"^#(交易合计|退款合计|导出时间|支付宝)",
    r"^(合计|总计|汇总|总交易单数|Total|Totals|TOTAL)\s*[:：]?$",
)


@dataclass(frozen=True)
class Preset:
    name: str
    platform: str
    kind: EntityKind
    label: dict[str, str]
    signature: tuple[str, ...]
    min_match: int
    columns: dict[str, tuple[str, ...]]  # field -> candidate headers, first present wins
    statuses: dict[str, str] = field(default_factory=dict)
    # The same status text means another thing once paid (Taobao: 交易关闭 = refunded).
    statuses_when_paid: dict[str, str] = field(default_factory=dict)
    status_default: str = "unknown"
    rows: str = "orders"  # or "items"
    amount_net_of_refund: bool = False
    order_total_repeated: bool = False
    unpaid_when_blank: str | None = None  # a field whose blank cell means "not paid"
    # Raw statuses of rows that only carry a refund of an order listed elsewhere (WeChat Pay).
    refund_row_statuses: tuple[str, ...] = ()
    # Item rows leave the order's cells blank after the first row (Shopify): fill them down.
    fill_down: bool = False
    # Prefixes a status may carry that do not change it (JD's "(删除)" = deleted by buyer).
    status_prefixes: tuple[str, ...] = ()
    trailers: tuple[str, ...] = ()
    download: dict[str, str] = field(default_factory=dict)

    @functools.cached_property
    def _signature(self) -> frozenset[str]:
        return frozenset(normalise_header(name) for name in self.signature)

    def score(self, header: Iterable[str]) -> int:
        """How many of the signature columns the header has."""
        return len(self._signature & {normalise_header(h) for h in header})

    def mapping(self, header: Iterable[str]) -> dict[str, str]:
        """field -> column of this file, for the fields whose column is present."""
        by_normal = {normalise_header(h): h for h in header}
        found: dict[str, str] = {}
        for field_name, candidates in self.columns.items():
            for candidate in candidates:
                column = by_normal.get(normalise_header(candidate))
                if column is not None:
                    found[field_name] = column
                    break
        return found

    def trailer_pattern(self) -> re.Pattern[str]:
        return trailer_pattern(self.trailers)

    def known_columns(self) -> tuple[str, ...]:
        return tuple({c for candidates in self.columns.values() for c in candidates})

    def status_of(self, raw: str | None) -> str:
        if raw is None:
            return self.status_default
        for prefix in self.status_prefixes:
            raw = raw.removeprefix(prefix)
        key = normalise_header(raw)
        for name, value in self.statuses.items():
            if normalise_header(name) == key:
                return value
        return self.status_default


def trailer_pattern(extra: Iterable[str] = ()) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in (*extra, *GENERIC_TRAILERS)))


def _preset_from_toml(name: str, data: dict[str, object]) -> Preset:
    def strings(value: object, key: str) -> tuple[str, ...]:
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise ValueError(f"preset {name}: {key} must be a string or a list of strings")

    kind = EntityKind(str(data.get("kind", "transactions")))
    known = {f.name for f in FIELDS[kind]}
    columns_raw = data.get("columns", {})
    assert isinstance(columns_raw, dict)
    columns = {key: strings(value, f"columns.{key}") for key, value in columns_raw.items()}
    unknown = set(columns) - known
    if unknown:
        raise ValueError(f"preset {name}: unknown fields {sorted(unknown)}")
    statuses_raw = data.get("statuses", {})
    paid_raw = data.get("statuses_when_paid", {})
    assert isinstance(statuses_raw, dict) and isinstance(paid_raw, dict)
    bad = {v for v in (*statuses_raw.values(), *paid_raw.values()) if v not in STORED_STATUSES}
    if bad:
        raise ValueError(f"preset {name}: statuses map to unknown values {sorted(bad)}")
    label = data.get("label", {})
    download = data.get("download", {})
    assert isinstance(label, dict) and isinstance(download, dict)
    return Preset(
        name=name,
        platform=str(data["platform"]),
        kind=kind,
        label={str(k): str(v) for k, v in label.items()},
        signature=strings(data["signature"], "signature"),
        min_match=int(str(data.get("min_match", 2))),
        columns=columns,
        statuses={str(k): str(v) for k, v in statuses_raw.items()},
        statuses_when_paid={str(k): str(v) for k, v in paid_raw.items()},
        status_default=str(data.get("status_default", "unknown")),
        rows=str(data.get("rows", "orders")),
        amount_net_of_refund=bool(data.get("amount_net_of_refund", False)),
        order_total_repeated=bool(data.get("order_total_repeated", False)),
        unpaid_when_blank=(str(data["unpaid_when_blank"]) if "unpaid_when_blank" in data else None),
        trailers=strings(data.get("trailers", []), "trailers"),
        refund_row_statuses=strings(data.get("refund_row_statuses", []), "refund_row_statuses"),
        fill_down=bool(data.get("fill_down", False)),
        status_prefixes=strings(data.get("status_prefixes", []), "status_prefixes"),
        download={str(k): str(v) for k, v in download.items()},
    )


@functools.cache
def load_presets() -> tuple[Preset, ...]:
    """Every preset shipped in ``presets/``, sorted by name."""
    folder = resources.files("patron.ingest.formats") / "presets"
    presets = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            presets.append(_preset_from_toml(entry.name.removesuffix(".toml"), data))
    return tuple(presets)


def preset_by_name(name: str) -> Preset | None:
    """The preset called ``name``; None for "generic". Raises IngestError for others."""
    if name == GENERIC:
        return None
    for preset in load_presets():
        if preset.name == name:
            return preset
    names = ", ".join([GENERIC, *(p.name for p in load_presets())])
    raise IngestError(
        f"No import preset named {name!r}; presets: {names}.", code=IngestErrorCode.BAD_MAPPING
    )


def detect_preset(header: Iterable[str], kind: EntityKind) -> Preset | None:
    """The preset whose signature this header matches best (at least its ``min_match``)."""
    header = list(header)
    best: tuple[int, Preset] | None = None
    for preset in load_presets():
        if preset.kind is not kind:
            continue
        score = preset.score(header)
        if score >= preset.min_match and (best is None or score > best[0]):
            best = (score, preset)
    return best[1] if best else None
