"""Which file column feeds which Patron field: synonyms in English and Chinese, plus --map.

The synonym lists are the documented contract (docs/importing.md prints them); a column is
matched after ``normalise_header`` folds width, case, spaces, wrappers and units.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from patron.ingest.cleaning import normalise_header
from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.i18n import gettext


class EntityKind(StrEnum):
    CUSTOMERS = "customers"
    PRODUCTS = "products"
    TRANSACTIONS = "transactions"


class ValueKind(StrEnum):
    IDENTIFIER = "identifier"
    TEXT = "text"
    AMOUNT = "amount"
    DATETIME = "datetime"
    DATE = "date"
    QUANTITY = "quantity"
    PHONE = "phone"
    EMAIL = "email"
    GENDER = "gender"
    BOOLEAN = "boolean"
    STATUS = "status"
    TAGS = "tags"


@dataclass(frozen=True)
class Field:
    name: str
    kind: ValueKind
    synonyms: tuple[str, ...]
    required: bool = False
    help: str = ""
    # A cell that cannot be read is left out rather than rejecting its row: the field only
    # helps (a buyer's phone that names a customer when nothing else does).
    lenient: bool = False
    # The longest text the store keeps for this field (its model field's max_length).
    max_length: int | None = None


_CUSTOMER_ID = (
    "customer_id",
    "customer id",
    "customer",
    "customer no",
    "customer number",
    "customer code",
    "client id",
    "member id",
    "member no",
    "member number",
    "card no",
    "card number",
    "buyer id",
    "客户编号",
    "客户id",
    "客户号",
    "客户代码",
    "客户编码",
    "客户账号",
    "会员号",
    "会员id",
    "会员编号",
    "会员卡号",
    "卡号",
    "顾客编号",
    "顾客id",
    "用户id",
    "用户编号",
    "买家id",
    "买家会员名",
    "下单帐号",
    "下单账号",
)

TRANSACTION_FIELDS: tuple[Field, ...] = (
    Field(
        "customer_id",
        ValueKind.IDENTIFIER,
        _CUSTOMER_ID,
        required=True,
        help="who bought: the customer's id in your system",
    ),
    Field(
        "order_id",
        ValueKind.IDENTIFIER,
        (
            "order_id",
            "order id",
            "order no",
            "order number",
            "order",
            "invoice",
            "invoice no",
            "invoice number",
            "invoiceno",
            "receipt no",
            "receipt",
            "transaction id",
            "ticket no",
            "订单号",
            "订单编号",
            "订单id",
            "单号",
            "交易号",
            "交易单号",
            "交易编号",
            "流水号",
            "小票号",
            "单据号",
            "单据编号",
            "销售单号",
            "账单号",
        ),
        help="groups item lines into one order; without it every row is one order",
    ),
    Field(
        "ordered_at",
        ValueKind.DATETIME,
        (
            "ordered_at",
            "date",
            "datetime",
            "time",
            "timestamp",
            "order date",
            "order time",
            "order_date",
            "purchase date",
            "purchase time",
            "transaction date",
            "transaction time",
            "invoice date",
            "invoicedate",
            "sale date",
            "sales date",
            "created at",
            "日期",
            "时间",
            "交易日期",
            "交易时间",
            "消费日期",
            "消费时间",
            "下单时间",
            "下单日期",
            "订单日期",
            "订单时间",
            "购买日期",
            "购买时间",
            "销售日期",
            "销售时间",
            "付款时间",
            "支付时间",
            "成交时间",
        ),
        required=True,
        help="when: a date, or a date and time",
    ),
    Field(
        "amount",
        ValueKind.AMOUNT,
        (
            "amount",
            "total",
            "order total",
            "order amount",
            "sales",
            "sales amount",
            "revenue",
            "value",
            "dollar_value",
            "spend",
            "net amount",
            "paid",
            "paid amount",
            "payment",
            "金额",
            "消费金额",
            "交易金额",
            "订单金额",
            "实付金额",
            "实收金额",
            "销售金额",
            "销售额",
            "支付金额",
            "付款金额",
            "总金额",
            "应付金额",
            "应收金额",
            "消费额",
        ),
        required=True,
        help="money paid (negative for a return)",
    ),
    Field(
        "cost",
        ValueKind.AMOUNT,
        ("cost", "cogs", "cost amount", "成本", "成本金额", "进货成本"),
        help="cost of goods, for margin",
    ),
    Field(
        "store",
        ValueKind.TEXT,
        (
            "store",
            "shop",
            "branch",
            "outlet",
            "location",
            "门店",
            "店铺",
            "分店",
            "门店名称",
            "店铺名称",
            "网点",
        ),
        help="store or branch",
    ),
    Field(
        "channel",
        ValueKind.TEXT,
        (
            "channel",
            "sales channel",
            "order channel",
            "渠道",
            "销售渠道",
            "订单渠道",
            "订单来源",
        ),
        help="sales channel",
    ),
    Field(
        "status",
        ValueKind.STATUS,
        ("status", "order status", "订单状态", "状态", "交易状态"),
        help="completed, returned or cancelled (完成, 退货, 取消)",
    ),
    Field(
        "original_order_id",
        ValueKind.IDENTIFIER,
        (
            "original_order_id",
            "original order",
            "original order id",
            "return of",
            "原订单号",
            "原订单编号",
            "原单号",
        ),
        help="for a return: the order it returns",
    ),
    Field(
        "sku",
        ValueKind.IDENTIFIER,
        (
            "sku",
            "product id",
            "product code",
            "item id",
            "item code",
            "stockcode",
            "stock code",
            "商品编码",
            "商品编号",
            "商品id",
            "商家编码",
            "货号",
            "sku编码",
            "菜品编码",
            "条码",
        ),
        help="product code: makes the file a file of item lines",
    ),
    Field(
        "product_name",
        ValueKind.TEXT,
        (
            "product",
            "product name",
            "item",
            "item name",
            "description",
            "商品",
            "商品名称",
            "品名",
            "菜品",
            "菜品名称",
            "菜名",
            "宝贝标题",
            "商品标题",
        ),
        help="product name: makes the file a file of item lines",
    ),
    Field(
        "category",
        ValueKind.TEXT,
        (
            "category",
            "product category",
            "品类",
            "类别",
            "分类",
            "商品分类",
            "商品类别",
            "菜品分类",
        ),
    ),
    Field(
        "quantity",
        ValueKind.QUANTITY,
        (
            "quantity",
            "qty",
            "units",
            "数量",
            "购买数量",
            "商品数量",
            "件数",
            "销量",
        ),
        help="units bought: makes the file a file of item lines",
    ),
    Field(
        "unit_price",
        ValueKind.AMOUNT,
        ("unit_price", "unit price", "单价"),
        help="price of one unit; a line's amount when the order total repeats on every line",
    ),
    Field(
        "refund",
        ValueKind.AMOUNT,
        ("refund", "refund amount", "refunded amount", "退款金额", "已退款金额", "订单已退款金额"),
        help="money refunded on the order: becomes a return linked to it",
    ),
    Field(
        "paid_at",
        ValueKind.TEXT,
        ("paid_at", "paid at", "payment time", "订单付款时间"),
        help="when it was paid; blank means unpaid for presets that say so",
    ),
    # The next four have no synonyms: a platform preset (or --map) names their column.
    Field(
        "cancelled_at",
        ValueKind.TEXT,
        (),
        help="when the order was cancelled: a filled cell means cancelled, for presets that "
        "say so (Shopify's Cancelled at)",
    ),
    Field(
        "buyer_phone",
        ValueKind.PHONE,
        (),
        help="the buyer's or receiver's phone: names the customer of an export without a "
        "buyer id, when it is not masked",
        lenient=True,
    ),
    Field(
        "refund_id",
        ValueKind.IDENTIFIER,
        (),
        help="the id of one refund (微信退款单号): each refund becomes its own return, so a "
        "refund in a later bill adds to the earlier ones",
    ),
    Field(
        "after_sale_status",
        ValueKind.TEXT,
        (),
        help="after-sale status (售后状态): the preset says which values mean refunded",
    ),
)

CUSTOMER_FIELDS: tuple[Field, ...] = (
    Field(
        "external_id",
        ValueKind.IDENTIFIER,
        ("external_id", *_CUSTOMER_ID),
        required=True,
        help="the customer's id in your system",
    ),
    Field(
        "name",
        ValueKind.TEXT,
        (
            "name",
            "full name",
            "customer name",
            "member name",
            "姓名",
            "客户姓名",
            "会员姓名",
            "顾客姓名",
            "名字",
            "客户名称",
            "收货人姓名",
        ),
    ),
    Field(
        "phone",
        ValueKind.PHONE,
        (
            "phone",
            "mobile",
            "mobile phone",
            "cell",
            "telephone",
            "tel",
            "phone number",
            "手机",
            "手机号",
            "手机号码",
            "电话",
            "电话号码",
            "联系电话",
            "联系手机",
            "客户手机号",
            "买家手机号",
        ),
    ),
    Field(
        "email",
        ValueKind.EMAIL,
        ("email", "e-mail", "email address", "邮箱", "电子邮件", "邮箱地址", "电子邮箱"),
    ),
    Field("gender", ValueKind.GENDER, ("gender", "sex", "性别", "客户性别")),
    Field(
        "birth_date",
        ValueKind.DATE,
        (
            "birth_date",
            "birthday",
            "date of birth",
            "dob",
            "生日",
            "出生日期",
            "会员生日",
            "客户生日",
        ),
    ),
    Field("region", ValueKind.TEXT, ("region", "province", "state", "省份", "省", "地区", "区域")),
    Field("city", ValueKind.TEXT, ("city", "城市", "市", "所在城市")),
    Field("occupation", ValueKind.TEXT, ("occupation", "job", "profession", "职业", "工作")),
    Field(
        "acquisition_channel",
        ValueKind.TEXT,
        (
            "acquisition_channel",
            "acquisition channel",
            "source",
            "signup source",
            "来源",
            "来源渠道",
            "获客渠道",
            "注册渠道",
        ),
    ),
    Field(
        "acquired_on",
        ValueKind.DATE,
        (
            "acquired_on",
            "signup date",
            "registered at",
            "registration date",
            "join date",
            "member since",
            "注册日期",
            "注册时间",
            "入会日期",
            "入会时间",
            "成为会员时间",
            "成为客户时间",
            "开卡日期",
        ),
    ),
    Field(
        "acquisition_cost", ValueKind.AMOUNT, ("acquisition_cost", "acquisition cost", "获客成本")
    ),
    Field(
        "company",
        ValueKind.TEXT,
        ("company", "company name", "公司", "公司名称", "单位", "企业名称"),
    ),
    Field(
        "credit_rating", ValueKind.TEXT, ("credit_rating", "credit rating", "信用等级", "信用评级")
    ),
    Field(
        "credit_limit", ValueKind.AMOUNT, ("credit_limit", "credit limit", "信用额度", "授信额度")
    ),
    Field(
        "consent_email",
        ValueKind.BOOLEAN,
        ("consent_email", "email consent", "同意邮件", "接收邮件"),
    ),
    Field("consent_sms", ValueKind.BOOLEAN, ("consent_sms", "sms consent", "同意短信", "接收短信")),
    Field(
        "consent_phone",
        ValueKind.BOOLEAN,
        ("consent_phone", "phone consent", "同意电话", "接收电话"),
    ),
    Field("tags", ValueKind.TAGS, ("tags", "labels", "标签", "客户标签")),
)

PRODUCT_FIELDS: tuple[Field, ...] = (
    Field("sku", ValueKind.IDENTIFIER, TRANSACTION_FIELDS[9].synonyms, required=True),
    Field("name", ValueKind.TEXT, ("name", *TRANSACTION_FIELDS[10].synonyms)),
    Field("category", ValueKind.TEXT, TRANSACTION_FIELDS[11].synonyms),
    Field(
        "unit_price",
        ValueKind.AMOUNT,
        ("unit_price", "unit price", "price", "单价", "价格", "售价", "零售价", "销售价"),
    ),
    Field(
        "unit_cost",
        ValueKind.AMOUNT,
        ("unit_cost", "unit cost", "cost", "成本", "单位成本", "进价", "成本价"),
    ),
    # recommend: products not for sale or out of stock are never recommended
    Field("for_sale", ValueKind.BOOLEAN, ("for_sale", "for sale", "在售", "是否在售", "上架")),
    Field("in_stock", ValueKind.BOOLEAN, ("in_stock", "in stock", "有货", "是否有货", "有库存")),
)

#: The longest text each field's column holds in the store: the models' ``max_length``
#: (tests/ingest/test_import_limits.py holds the two equal). A longer cell rejects its row
#: rather than failing the import in PostgreSQL or being kept whole by SQLite.
MAX_LENGTHS: dict[EntityKind, dict[str, int]] = {
    EntityKind.TRANSACTIONS: {
        "customer_id": 64,
        "order_id": 64,
        "original_order_id": 64,
        "store": 100,
        "channel": 64,
        "status": 64,
        "sku": 64,
        "product_name": 200,
        "category": 100,
    },
    EntityKind.CUSTOMERS: {
        "external_id": 64,
        "name": 200,
        "phone": 32,
        "email": 254,
        "region": 64,
        "city": 64,
        "occupation": 64,
        "acquisition_channel": 64,
        "company": 200,
        "credit_rating": 16,
    },
    EntityKind.PRODUCTS: {"sku": 64, "name": 200, "category": 100},
}


def _limited(kind: EntityKind, fields: tuple[Field, ...]) -> tuple[Field, ...]:
    limits = MAX_LENGTHS[kind]
    return tuple(dataclasses.replace(f, max_length=limits.get(f.name)) for f in fields)


FIELDS: dict[EntityKind, tuple[Field, ...]] = {
    EntityKind.TRANSACTIONS: _limited(EntityKind.TRANSACTIONS, TRANSACTION_FIELDS),
    EntityKind.CUSTOMERS: _limited(EntityKind.CUSTOMERS, CUSTOMER_FIELDS),
    EntityKind.PRODUCTS: _limited(EntityKind.PRODUCTS, PRODUCT_FIELDS),
}

# Product columns turn a transaction file into a file of item lines (DOMAIN.md).
ITEM_LINE_FIELDS = ("sku", "product_name", "quantity")


@dataclass(frozen=True)
class CustomerKey:
    """How the rows of an export without a buyer id name their customer (a preset's
    ``[customer_key]``): per row, the first of ``sources`` that has a value and is not
    masked; else, with ``otherwise="order"``, one unidentified buyer per order
    (``order_prefix`` + the order id), or with ``otherwise="reject"`` an error for the row.
    A phone becomes ``tel-`` + a hash of its normalised digits, so the same number links
    orders and customer records across files without showing the number in the id."""

    sources: tuple[str, ...]
    otherwise: str = "reject"
    order_prefix: str = ""


@dataclass(frozen=True)
class ColumnMapping:
    kind: EntityKind
    columns: dict[str, str]  # field name -> file column
    unmapped: tuple[str, ...]  # file columns no field took
    # Fields a row must fill; None: the fields' own ``required`` flags.
    required: frozenset[str] | None = None
    # field -> several file columns read as one, joined by a space (First Name + Last Name).
    combined: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    customer_key: CustomerKey | None = None

    def has(self, field: str) -> bool:
        return field in self.columns

    def is_required(self, spec: Field) -> bool:
        return spec.required if self.required is None else spec.name in self.required

    @property
    def is_item_lines(self) -> bool:
        return self.kind is EntityKind.TRANSACTIONS and any(
            f in self.columns for f in ITEM_LINE_FIELDS
        )


def known_column_names(kind: EntityKind) -> tuple[str, ...]:
    """Every synonym of every field, used to find the header row after a preamble."""
    return tuple(s for field in FIELDS[kind] for s in (field.name, *field.synonyms))


def parse_map_options(options: Iterable[str]) -> dict[str, str]:
    """``["customer_id=会员卡号", ...]`` -> ``{"customer_id": "会员卡号"}``."""
    mapping: dict[str, str] = {}
    for option in options:
        field, sep, column = option.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise IngestError(
                gettext("--map expects field=column, got %(option)s") % {"option": repr(option)},
                code=IngestErrorCode.BAD_MAPPING,
            )
        mapping[field.strip()] = column.strip()
    return mapping


def resolve_columns(
    header: Iterable[str],
    kind: EntityKind,
    overrides: Mapping[str, str] | None = None,
    *,
    synonyms: bool = True,
    require: bool = True,
    required: Collection[str] | None = None,
) -> ColumnMapping:
    """Match file columns to fields: explicit ``overrides`` first, then synonyms, in field order.

    With ``require=False`` a mapping without some required field is returned as it is (for a
    person to complete it) instead of raising. ``required`` names the required fields when
    they are not the fields' own flags (a preset that derives the customer, or a file of
    order lines).

    Raises
    ------
    IngestError
        An override names an unknown field or column, or (``require``) a required field has
        no column; the message lists the columns found and the ``--map`` that would fix it.
    """
    header = list(header)
    fields = FIELDS[kind]
    field_names = {f.name for f in fields}
    by_normal: dict[str, str] = {}
    for column in header:
        by_normal.setdefault(normalise_header(column), column)
    columns: dict[str, str] = {}
    for field_name, column in (overrides or {}).items():
        if field_name not in field_names:
            raise IngestError(
                gettext("--map names an unknown field %(field)s; fields for %(kind)s: %(fields)s")
                % {
                    "field": repr(field_name),
                    "kind": kind,
                    "fields": ", ".join(sorted(field_names)),
                },
                code=IngestErrorCode.BAD_MAPPING,
            )
        if column not in header:
            found = by_normal.get(normalise_header(column))
            if found is None:
                raise IngestError(
                    gettext(
                        "--map %(field)s=%(column)s: the file has no column %(quoted)s; "
                        "columns found: %(columns)s"
                    )
                    % {
                        "field": field_name,
                        "column": column,
                        "quoted": repr(column),
                        "columns": ", ".join(header),
                    },
                    code=IngestErrorCode.BAD_MAPPING,
                )
            column = found
        columns[field_name] = column
    taken = set(columns.values())
    for field in fields if synonyms else ():
        if field.name in columns:
            continue
        for synonym in (field.name, *field.synonyms):
            column = by_normal.get(normalise_header(synonym))
            if column is not None and column not in taken:
                columns[field.name] = column
                taken.add(column)
                break
    required_names = (
        frozenset(f.name for f in fields if f.required) if required is None else frozenset(required)
    )
    missing = [f for f in fields if f.name in required_names and f.name not in columns]
    if missing and require:
        names = ", ".join(f.name for f in missing)
        example = " ".join(f"--map {f.name}=COLUMN" for f in missing)
        raise IngestError(
            gettext(
                "No column for required field(s) %(fields)s in this %(kind)s file. "
                "Columns found: %(columns)s. Name the column(s) with %(example)s."
            )
            % {
                "fields": names,
                "kind": kind,
                "columns": ", ".join(header) or gettext("(none)"),
                "example": example,
            },
            code=IngestErrorCode.MISSING_COLUMN,
            extra={"missing": [f.name for f in missing], "columns": header},
        )
    unmapped = tuple(c for c in header if c not in taken)
    return ColumnMapping(
        kind=kind,
        columns=columns,
        unmapped=unmapped,
        required=None if required is None else required_names,
    )
