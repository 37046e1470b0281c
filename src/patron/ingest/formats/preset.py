"""Loading presets from TOML and recognising one from a file's header."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from importlib import resources

from patron.ingest.cleaning import normalise_header
from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.i18n import gettext, language
from patron.ingest.mapping import FIELDS, ColumnMapping, CustomerKey, EntityKind

GENERIC = "generic"
STORED_STATUSES = {"completed", "open", "unpaid", "cancelled", "refunded", "unknown"}
# "orders": a row is an order; "items": a row is an order line and the lines of an order
# group into it; "order_lines": a row is a line of an order listed in another file of the
# same platform (Taobao's order details), joined on the order id.
ROW_KINDS = ("orders", "items", "order_lines")
AFTER_SALE_VALUES = {"refunded", "none"}
TOML_KEYS = {
    "platform",
    "kind",
    "rows",
    "signature",
    "min_match",
    "label",
    "download",
    "columns",
    "statuses",
    "statuses_when_paid",
    "status_default",
    "amount_net_of_refund",
    "order_total_repeated",
    "unpaid_when_blank",
    "trailers",
    "refund_row_statuses",
    "fill_down",
    "status_prefixes",
    "after_sale_statuses",
    "customer_key",
    "combine",
    "date_order",
    "cancelled_when_set",
}

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
    cancelled_when_set: str | None = None  # a field whose filled cell means "cancelled"
    # Raw statuses of rows that only carry a refund of an order listed elsewhere (WeChat Pay).
    refund_row_statuses: tuple[str, ...] = ()
    # Item rows leave the order's cells blank after the first row (Shopify): fill them down.
    fill_down: bool = False
    # Prefixes a status may carry that do not change it (JD's "(删除)" = deleted by buyer).
    status_prefixes: tuple[str, ...] = ()
    trailers: tuple[str, ...] = ()
    download: dict[str, str] = field(default_factory=dict)
    # 售后状态 (after-sale status) values that mean the row was refunded in full (PDD, Douyin).
    after_sale_statuses: dict[str, str] = field(default_factory=dict)
    # How an export without a buyer id names its customers (see CustomerKey).
    customer_key: CustomerKey | None = None
    # field -> columns read as one, joined by a space (Shopify's First Name + Last Name).
    combine: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Which way dates such as 5/3/2016 read when nothing in the file settles it.
    date_order: str | None = None

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
        for field_name, parts in self._combined(by_normal).items():
            found.setdefault(field_name, parts[0])
        return found

    def _combined(self, by_normal: dict[str, str]) -> dict[str, tuple[str, ...]]:
        combined: dict[str, tuple[str, ...]] = {}
        for field_name, candidates in self.combine.items():
            present = [by_normal[k] for c in candidates if (k := normalise_header(c)) in by_normal]
            if present:
                combined[field_name] = tuple(present)
        return combined

    def display_label(self) -> str:
        """The export's name in the active language (English, then the preset's name)."""
        return self.label.get(language()) or self.label.get("en", self.name)

    @property
    def customer_field(self) -> str:
        return "customer_id" if self.kind is EntityKind.TRANSACTIONS else "external_id"

    def required_fields(self) -> frozenset[str] | None:
        """The fields a row of this export must fill, when they differ from the fields' own
        flags: a file of order lines needs only its order id; a derived customer needs no
        column of its own, but one unidentified buyer per order needs the order id."""
        if self.rows == "order_lines":
            return frozenset({"order_id"})
        if self.customer_key is None:
            return None
        required = {f.name for f in FIELDS[self.kind] if f.required} - {self.customer_field}
        if self.customer_key.otherwise == "order":
            required.add("order_id")
        return frozenset(required)

    def refine(
        self, mapping: ColumnMapping, header: Iterable[str], *, require: bool = True
    ) -> ColumnMapping:
        """Add what this preset knows beyond field -> column: combined columns and how the
        customer is named.

        Raises
        ------
        IngestError
            (``require``) The customer can only come from columns this file does not have.
        """
        by_normal = {normalise_header(h): h for h in header}
        combined = {
            name: parts
            for name, parts in self._combined(by_normal).items()
            if len(parts) > 1 and mapping.columns.get(name) == parts[0]
        }
        used = {c for parts in combined.values() for c in parts}
        key = self.customer_key
        if (
            key is not None
            and self.customer_field in mapping.columns
            and self.customer_field not in key.sources
        ):
            key = None  # --map named the customer column: it decides
        named = key is None or any(s in mapping.columns for s in key.sources)
        if require and key is not None and key.otherwise != "order" and not named:
            names = [c for s in key.sources for c in self.columns.get(s, ())]
            raise IngestError(
                gettext(
                    "This %(export)s has no column that names the customer (%(columns)s); "
                    "name one with --map %(field)s=COLUMN."
                )
                % {
                    "export": self.display_label(),
                    "columns": ", ".join(names),
                    "field": self.customer_field,
                },
                code=IngestErrorCode.MISSING_COLUMN,
                extra={"missing": [self.customer_field], "columns": list(by_normal.values())},
            )
        return replace(
            mapping,
            combined=combined,
            unmapped=tuple(c for c in mapping.unmapped if c not in used),
            customer_key=key,
        )

    @property
    def may_refund(self) -> bool:
        """Whether rows of this export can carry a refund (so returns must be linked)."""
        refunded = "refunded" in {*self.statuses.values(), *self.statuses_when_paid.values()}
        return bool(refunded or self.refund_row_statuses or self.after_sale_statuses)

    def after_sale_of(self, raw: str) -> str:
        """``"refunded"`` when this after-sale status means the row was refunded in full."""
        key = normalise_header(raw)
        for name, value in self.after_sale_statuses.items():
            if normalise_header(name) == key:
                return value
        return "none"

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

    unknown_keys = set(data) - TOML_KEYS
    if unknown_keys:
        raise ValueError(f"preset {name}: unknown keys {sorted(unknown_keys)}")
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
    rows = str(data.get("rows", "orders"))
    if rows not in ROW_KINDS:
        raise ValueError(f"preset {name}: rows must be one of {', '.join(ROW_KINDS)}")
    after_sale = data.get("after_sale_statuses", {})
    assert isinstance(after_sale, dict)
    if set(after_sale.values()) - AFTER_SALE_VALUES:
        raise ValueError(f"preset {name}: after_sale_statuses map to refunded or none")
    combine_raw = data.get("combine", {})
    assert isinstance(combine_raw, dict)
    combine = {key: strings(value, f"combine.{key}") for key, value in combine_raw.items()}
    if set(combine) - known:
        raise ValueError(f"preset {name}: unknown fields in combine {sorted(set(combine) - known)}")
    date_order = data.get("date_order")
    if date_order not in (None, "month_first", "day_first"):
        raise ValueError(f"preset {name}: date_order is month_first or day_first")
    platform = str(data["platform"])
    customer_key = _customer_key(name, platform, data.get("customer_key"), known)
    for switch in ("unpaid_when_blank", "cancelled_when_set"):
        if switch in data and data[switch] not in known:
            raise ValueError(f"preset {name}: {switch} names an unknown field")
    return Preset(
        name=name,
        platform=platform,
        kind=kind,
        label={str(k): str(v) for k, v in label.items()},
        signature=strings(data["signature"], "signature"),
        min_match=int(str(data.get("min_match", 2))),
        columns=columns,
        statuses={str(k): str(v) for k, v in statuses_raw.items()},
        statuses_when_paid={str(k): str(v) for k, v in paid_raw.items()},
        status_default=str(data.get("status_default", "unknown")),
        rows=rows,
        amount_net_of_refund=bool(data.get("amount_net_of_refund", False)),
        order_total_repeated=bool(data.get("order_total_repeated", False)),
        unpaid_when_blank=(str(data["unpaid_when_blank"]) if "unpaid_when_blank" in data else None),
        cancelled_when_set=(
            str(data["cancelled_when_set"]) if "cancelled_when_set" in data else None
        ),
        trailers=strings(data.get("trailers", []), "trailers"),
        refund_row_statuses=strings(data.get("refund_row_statuses", []), "refund_row_statuses"),
        fill_down=bool(data.get("fill_down", False)),
        status_prefixes=strings(data.get("status_prefixes", []), "status_prefixes"),
        download={str(k): str(v) for k, v in download.items()},
        after_sale_statuses={str(k): str(v) for k, v in after_sale.items()},
        customer_key=customer_key,
        combine=combine,
        date_order=None if date_order is None else str(date_order),
    )


def _customer_key(name: str, platform: str, raw: object, known: set[str]) -> CustomerKey | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("from"), list):
        raise ValueError(f"preset {name}: customer_key needs from = [fields]")
    sources = tuple(str(s) for s in raw["from"])
    if set(sources) - known:
        raise ValueError(f"preset {name}: customer_key names unknown fields")
    otherwise = str(raw.get("otherwise", "reject"))
    if otherwise not in ("order", "reject"):
        raise ValueError(f"preset {name}: customer_key.otherwise is order or reject")
    if otherwise == "order" and "order_id" not in known:
        raise ValueError(f"preset {name}: only orders can stand for their buyer")
    return CustomerKey(sources=sources, otherwise=otherwise, order_prefix=f"{platform}-order-")


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
        gettext("No import preset named %(name)s; presets: %(presets)s.")
        % {"name": repr(name), "presets": names},
        code=IngestErrorCode.BAD_MAPPING,
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
