"""Tests for patron.ingest.cleaning: every parser on valid, invalid and null cells, plus
hypothesis round trips."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.ingest import cleaning
from patron.ingest.cleaning import (
    clean_text,
    detect_date_format,
    local_dates,
    mask_phone,
    normalise_email,
    normalise_header,
    normalise_phone,
    parse_amount,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_gender,
    parse_identifier,
    parse_integer,
)
from patron.ingest.errors import IngestError, IngestErrorCode

UTC = dt.UTC
SHANGHAI = "Asia/Shanghai"


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# --------------------------------------------------------------------------- text


def test_clean_text_strips_wrappers_and_placeholders() -> None:
    values = ['="1930679858170647"', "`SUCCESS", '"\t6917926768823643751"', "'18612345678",
              "'+31612345678", " 12 \t", "-", "/", "——", "--", "null", "NULL", "N/A", "", None,
              "a-b", "O'Neil"]  # fmt: skip
    assert clean_text(values).to_pylist() == [
        "1930679858170647", "SUCCESS", "6917926768823643751", "18612345678", "+31612345678",
        "12", None, None, None, None, None, None, None, None, None, "a-b", "O'Neil",
    ]  # fmt: skip


def test_clean_text_accepts_arrow_input() -> None:
    chunked = pa.chunked_array([["a ", None], [" '7"]])
    assert clean_text(chunked).to_pylist() == ["a", None, "7"]
    assert clean_text(pa.array([], pa.string())).to_pylist() == []
    assert clean_text(pa.array(["x"]).dictionary_encode()).to_pylist() == ["x"]


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        (" 实付金额（元）", "实付金额"),
        ("用户实付金额(元)", "用户实付金额"),
        ("商家实收（元）", "商家实收"),
        ("金额 (¥)", "金额"),
        ("Amount (RMB)", "amount"),
        ("订单付款时间 ", "订单付款时间"),
        ('\ufeff="订单编号"', "订单编号"),
        ("`交易时间", "交易时间"),
        ("Ｃｕｓｔｏｍｅｒ　 ＩＤ", "customer id"),
        ("总金额(旧版)", "总金额(旧版)"),
        ("Lineitem  quantity", "lineitem quantity"),
    ],
)
def test_normalise_header(name: str, folded: str) -> None:
    assert normalise_header(name) == folded


# --------------------------------------------------------------------------- identifiers, numbers


def test_parse_identifier() -> None:
    parsed = parse_identifier(
        ["00001", "4.00123E+27", "1.23457E+15", "123.0", '="0012"', None, "-"]
    )
    assert parsed.values.to_pylist() == ["00001", None, None, "123.0", "0012", None, None]
    assert parsed.invalid.tolist() == [False, True, True, False, False, False, False]


def test_parse_amount_valid_invalid_and_null() -> None:
    cells = ["178.8", "-0.01", "¥28.16", "￥0.12", "0元", "1,234.50", "１２３．４５", " 12 ", "+5",
             "¥ -3.5", "-¥3.5", "0.00000", "RMB 7", "12.345", "-12.345", "0.005",
             "abc", "12.3.4", "1e5", "12,34", "-¥-5", "(12.00)", "1 234", "9" * 13,
             None, "", "-", "/"]  # fmt: skip
    parsed = parse_amount(cells)
    assert parsed.values.type == pa.decimal128(14, 2)
    expected = ["178.80", "-0.01", "28.16", "0.12", "0.00", "1234.50", "123.45", "12.00", "5.00",
                "-3.50", "-3.50", "0.00", "7.00", "12.35", "-12.35", "0.01"]  # fmt: skip
    assert parsed.values.to_pylist() == [Decimal(v) for v in expected] + [None] * 12
    assert parsed.invalid.tolist() == [False] * 16 + [True] * 8 + [False] * 4


def test_parse_amount_rejects_what_does_not_fit_the_column() -> None:
    parsed = parse_amount(["999999999999.99", "999999999999.995", "1000000000000"])
    assert parsed.values.to_pylist() == [Decimal("999999999999.99"), None, None]
    assert parsed.invalid.tolist() == [False, True, True]


_FULL_WIDTH = str.maketrans("0123456789.,-+", "０１２３４５６７８９．，－＋")


@settings(max_examples=200, deadline=None)
@given(
    amount=st.decimals(min_value=-(10**11), max_value=10**11, places=2),
    style=st.sampled_from(["plain", "yen", "fullwidth_yen", "thousands", "fullwidth", "yuan"]),
)
def test_parse_amount_round_trip(amount: Decimal, style: str) -> None:
    # given a Decimal formatted as exports write it
    text = {
        "plain": f"{amount:f}",
        "yen": f"¥{amount:f}",
        "fullwidth_yen": f"￥{amount:,.2f}",
        "thousands": f"{amount:,.2f}",
        "fullwidth": f"{amount:,.2f}".translate(_FULL_WIDTH),
        "yuan": f"{amount:.2f}元",
    }[style]

    # when
    parsed = parse_amount([text])

    # then
    assert parsed.invalid.tolist() == [False]
    assert parsed.values.to_pylist() == [amount]


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=6))
def test_parse_amount_rounds_half_up_to_cents(amount: Decimal) -> None:
    expected = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert parse_amount([f"{amount:f}"]).values.to_pylist() == [expected]


def test_parse_integer() -> None:
    parsed = parse_integer(["1", "２", "1.0", "1.00", "-2", "1,200", "1.5", "x", "1e3", None, "-"])
    assert parsed.values.type == pa.int64()
    assert parsed.values.to_pylist() == [1, 2, 1, 1, -2, 1200, None, None, None, None, None]
    assert parsed.invalid.tolist() == [False] * 6 + [True] * 3 + [False] * 2


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("samples", "fmt"),
    [
        (["2020-02-20 23:59:54", "2020-02-21 00:00:01"], "%Y-%m-%d %H:%M:%S"),
        (["2020-02-20"], "%Y-%m-%d"),
        (["2020-02-20 23:59"], "%Y-%m-%d %H:%M"),
        (["2016/5/23 22:02", "2016/12/3 2:02"], "%Y/%m/%d %H:%M"),
        (["2016/05/23"], "%Y/%m/%d"),
        (["2016-05-04  02:18:18"], "%Y-%m-%d %H:%M:%S"),
        (["2026-05-14 11:23:45 +0100"], "%Y-%m-%d %H:%M:%S%z"),
        (["2024-01-31T10:00:00", "2024-01-31T10:00:00.5"], "%Y-%m-%dT%H:%M:%S"),
        (["2024-01-31T10:00:00Z", "2024-01-31T10:00:00.123+08:00"], "%Y-%m-%dT%H:%M:%S%z"),
        (["19970101", "19971231"], "%Y%m%d"),
        (["2024.01.31"], "%Y.%m.%d"),
        (["2024年1月31日", "2024年12月1日"], "%Y年%m月%d日"),
        (["2024年01月31日 10:00:00"], "%Y年%m月%d日 %H:%M:%S"),
        (["5/31/2016 0:37", "6/1/2016 13:00"], "%m/%d/%Y %H:%M"),
        (["31/05/2016", "01/06/2016"], "%d/%m/%Y"),
        (["31.05.2016"], "%d.%m.%Y"),
        (["2024-01-31 09:05:07", "2024-02-01"], "%Y-%m-%d %H:%M:%S"),
        (["yesterday"], None),
        (["2024-13-45"], None),
        (["2024-01-31", "31/01/2024"], None),
        ([], None),
    ],
)
def test_detect_date_format(samples: list[str], fmt: str | None) -> None:
    assert detect_date_format(samples) == fmt


def test_ambiguous_dates_name_both_formats() -> None:
    with pytest.raises(IngestError) as info:
        detect_date_format(["01/02/2024", "03/04/2024 "])
    assert info.value.code is IngestErrorCode.AMBIGUOUS_DATE_FORMAT
    assert "--date-format '%d/%m/%Y'" in info.value.message
    assert "--date-format '%m/%d/%Y'" in info.value.message
    assert info.value.extra["candidates"] == ["%d/%m/%Y", "%m/%d/%Y"]


def test_parse_datetime_local_time_offsets_and_bad_cells() -> None:
    # given Shanghai wall times, an explicit offset and bad cells
    cells = ["2020-02-20 23:59:54", "2024-02-30 00:00:00", None, "yesterday", "-",
             "2024-02-29 08:00:00", "2024-01-01 24:00:00", "2024-01-01 23:59:60"]  # fmt: skip

    # when
    parsed = parse_datetime(cells, fmt=None, tz=SHANGHAI)

    # then
    assert parsed.values.type == pa.timestamp("us", tz="UTC")
    assert parsed.values.to_pylist() == [
        utc(2020, 2, 20, 15, 59, 54), None, None, None, None, utc(2024, 2, 29), None, None,
    ]  # fmt: skip
    assert parsed.invalid.tolist() == [False, True, False, True, False, False, True, True]
    assert parsed.fmt == "%Y-%m-%d %H:%M:%S"
    assert parsed.has_time


def test_parse_datetime_explicit_offsets_win() -> None:
    parsed = parse_datetime(
        ["2026-05-14 11:23:45 +0100", "2026-05-14 11:23:45-05:30", "2026-05-14 11:23:45Z"],
        fmt="%Y-%m-%d %H:%M:%S %z",
        tz=SHANGHAI,
    )
    assert parsed.values.to_pylist() == [
        utc(2026, 5, 14, 10, 23, 45),
        utc(2026, 5, 14, 16, 53, 45),
        utc(2026, 5, 14, 11, 23, 45),
    ]


def test_parse_datetime_with_a_given_format_rejects_other_shapes() -> None:
    parsed = parse_datetime(
        ["2024-01-31 10:00", "31/01/2024 10:00"], fmt="%d/%m/%Y %H:%M", tz="UTC"
    )
    assert parsed.values.to_pylist() == [None, utc(2024, 1, 31, 10)]
    assert parsed.invalid.tolist() == [True, False]


def test_parse_datetime_across_dst_matches_zoneinfo() -> None:
    # spring-forward gap and fall-back repeat in New York are resolved like datetime (fold=0)
    zone = ZoneInfo("America/New_York")
    cells = ["2024-03-10 01:59:59", "2024-03-10 02:30:00", "2024-03-10 03:00:00",
             "2024-11-03 00:59:59", "2024-11-03 01:30:00", "2024-11-03 02:00:00",
             "2024-07-01 12:00:00"]  # fmt: skip
    parsed = parse_datetime(cells, fmt=None, tz="America/New_York")
    expected = [dt.datetime.fromisoformat(c).replace(tzinfo=zone).astimezone(UTC) for c in cells]
    assert parsed.values.to_pylist() == expected


def test_parse_datetime_has_time() -> None:
    assert not parse_datetime(["2024-01-31", "2024-02-01"], fmt=None, tz=SHANGHAI).has_time
    midnights = ["2024-01-31 00:00:00", "2024-02-01 00:00:00"]
    assert not parse_datetime(midnights, fmt=None, tz=SHANGHAI).has_time
    assert parse_datetime([*midnights, "2024-02-01 00:00:01"], fmt=None, tz=SHANGHAI).has_time
    assert cleaning.format_has_time("%Y/%m/%d %H:%M")
    assert not cleaning.format_has_time("%Y%m%d")


def test_parse_datetime_without_a_common_format_keeps_the_majority() -> None:
    parsed = parse_datetime(["2024-01-31", "2024-02-01", "31/01/2024"], fmt=None, tz="UTC")
    assert parsed.fmt == "%Y-%m-%d"
    assert parsed.invalid.tolist() == [False, False, True]


def test_parse_datetime_of_nothing() -> None:
    parsed = parse_datetime([None, "-"], fmt=None, tz=SHANGHAI)
    assert parsed.values.to_pylist() == [None, None]
    assert parsed.invalid.tolist() == [False, False]
    assert parsed.fmt is None
    assert not parsed.has_time


def test_bad_zone_and_bad_format() -> None:
    with pytest.raises(IngestError) as zone:
        parse_datetime(["2024-01-01"], fmt=None, tz="Mars/Olympus")
    assert zone.value.code is IngestErrorCode.UNKNOWN_TIMEZONE
    for fmt in ("%Y-%m", "%Y-%m-%d %Q", "%Y-%m-%d %", "%Y %Y-%m-%d"):
        with pytest.raises(IngestError) as bad:
            parse_datetime(["2024-01-01"], fmt=fmt, tz="UTC")
        assert bad.value.code is IngestErrorCode.INVALID_DATE_FORMAT


_FORMATS = [
    ("%Y-%m-%d %H:%M:%S", True),
    ("%Y-%m-%d %H:%M", False),
    ("%Y-%m-%dT%H:%M:%S", True),
    ("%Y/%m/%d %H:%M", False),
    ("%Y/%m/%d", None),
    ("%Y-%m-%d", None),
    ("%Y%m%d", None),
    ("%Y.%m.%d", None),
    ("%Y年%m月%d日", None),
    ("%Y年%m月%d日 %H:%M:%S", True),
    ("%d/%m/%Y %H:%M", False),
    ("%m/%d/%Y %I:%M:%S %p", True),
]


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2080, 12, 31)),
    layout=st.sampled_from(_FORMATS),
    tz=st.sampled_from([SHANGHAI, "Europe/Berlin", "America/New_York", "UTC"]),
    unpadded=st.booleans(),
)
def test_parse_datetime_round_trip(
    moment: dt.datetime, layout: tuple[str, bool | None], tz: str, unpadded: bool
) -> None:
    # given a wall time written in one of the supported formats (seconds only if the format
    # has them, no time if it has none)
    fmt, seconds = layout
    if seconds is None:
        moment = dt.datetime(moment.year, moment.month, moment.day)
    else:
        moment = moment.replace(microsecond=0, second=moment.second if seconds else 0)
    # Text cannot say which of a repeated hour (clocks turned back) it means: it reads as the
    # first, as zoneinfo does with fold=0 (hypothesis also draws fold=1).
    moment = moment.replace(fold=0)
    text = moment.strftime(fmt)
    if unpadded and "/" in fmt:
        text = text.replace("/0", "/").replace(" 0", " ")

    # when
    parsed = parse_datetime([text], fmt=fmt, tz=tz)

    # then it is the same instant as zoneinfo makes of it
    assert parsed.invalid.tolist() == [False]
    assert parsed.values.to_pylist() == [moment.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)]


@settings(max_examples=100, deadline=None)
@given(
    moment=st.datetimes(
        min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2060, 1, 1), timezones=st.just(UTC)
    ),
    offset_minutes=st.integers(-14 * 60, 14 * 60),
)
def test_parse_datetime_iso_offsets_round_trip(moment: dt.datetime, offset_minutes: int) -> None:
    local = moment.astimezone(dt.timezone(dt.timedelta(minutes=offset_minutes)))
    parsed = parse_datetime([local.isoformat()], fmt=None, tz=SHANGHAI)
    assert parsed.values.to_pylist() == [moment]


def test_parse_date() -> None:
    parsed = parse_date(["1990-01-01", "1990-02-30", "2000-02-29 10:00:00", "", None, "x"])
    assert parsed.values.type == pa.date32()
    assert parsed.values.to_pylist() == [
        dt.date(1990, 1, 1),
        None,
        dt.date(2000, 2, 29),
        None,
        None,
        None,
    ]
    assert parsed.invalid.tolist() == [False, True, False, False, False, True]
    assert parse_date(["01/02/1990"], fmt="%d/%m/%Y").values.to_pylist() == [dt.date(1990, 2, 1)]


def test_local_dates() -> None:
    stamps = pa.array(
        [utc(2024, 1, 1, 15, 59), utc(2024, 1, 1, 16, 0), None], pa.timestamp("us", tz="UTC")
    )
    assert local_dates(stamps, SHANGHAI).to_pylist() == [
        dt.date(2024, 1, 1),
        dt.date(2024, 1, 2),
        None,
    ]
    assert local_dates(pa.chunked_array([stamps]), "UTC").to_pylist() == [
        dt.date(2024, 1, 1), dt.date(2024, 1, 1), None,
    ]  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(
        min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2070, 1, 1), timezones=st.just(UTC)
    ),
    tz=st.sampled_from([SHANGHAI, "America/New_York", "Australia/Lord_Howe", "Pacific/Apia"]),
)
def test_local_dates_match_zoneinfo(moment: dt.datetime, tz: str) -> None:
    stamps = pa.array([moment], pa.timestamp("us", tz="UTC"))
    assert local_dates(stamps, tz).to_pylist() == [moment.astimezone(ZoneInfo(tz)).date()]


# --------------------------------------------------------------------------- people


def test_normalise_phone() -> None:
    cells = ["+86 138-1234-5678", "86-13812345678", "138 1234 5678", "'18612345678",
             "008613812345678", "１３８１２３４５６７８", "186******05", "1******6198", "##密文",
             "+1 (202) 555-0123", "'+31612345678", "010-12345678", "abc", "123", "12812345678",
             None, "-"]  # fmt: skip
    parsed = normalise_phone(cells)
    assert parsed.values.to_pylist() == [
        "13812345678", "13812345678", "13812345678", "18612345678", "13812345678",
        "13812345678", "186******05", "1******6198", "##密文", "+12025550123",
        "+31612345678", "01012345678", None, None, None, None, None,
    ]  # fmt: skip
    assert parsed.invalid.tolist() == [False] * 12 + [True] * 3 + [False] * 2
    assert parsed.masked.tolist() == [False] * 6 + [True] * 3 + [False] * 8


def test_mask_phone() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+31612345678") == "+316****5678"
    assert mask_phone("186******05") == "186******05"
    assert mask_phone("12345") == "*****"


def test_parse_gender() -> None:
    parsed = parse_gender(
        ["男", "女", "M", "female", "保密", "其他", "unknown", "U", "1", "0", "猫", None]
    )
    assert parsed.values.to_pylist() == [
        "m",
        "f",
        "m",
        "f",
        "u",
        "u",
        "u",
        "u",
        None,
        None,
        None,
        None,
    ]
    assert parsed.invalid.tolist() == [False] * 8 + [True] * 3 + [False]
    coded = parse_gender(["0", "1", "2", "3"], numeric_code={"0": "f", "1": "m", "2": "u"})
    assert coded.values.to_pylist() == ["f", "m", "u", None]
    assert coded.invalid.tolist() == [False, False, False, True]


def test_parse_bool() -> None:
    cells = [
        "yes",
        "No",
        "TRUE",
        "false",
        "1",
        "0",
        "是",
        "否",
        "Y",
        "n",
        "同意",
        "不同意",
        "maybe",
        None,
    ]
    parsed = parse_bool(cells)
    assert parsed.values.type == pa.bool_()
    assert parsed.values.to_pylist() == [True, False] * 6 + [None, None]
    assert parsed.invalid.tolist() == [False] * 12 + [True, False]


def test_normalise_email() -> None:
    parsed = normalise_email(
        ["A.Li@Example.COM ", "x@y", "no-at.example.com", "ｆｏｏ＠ｂａｒ．ｃｎ", None]
    )
    assert parsed.values.to_pylist() == ["a.li@example.com", None, None, "foo@bar.cn", None]
    assert parsed.invalid.tolist() == [False, True, True, False, False]


_PARSERS = [parse_identifier, parse_amount, parse_integer, normalise_phone, parse_gender,
            parse_bool, normalise_email, parse_date]  # fmt: skip


@pytest.mark.parametrize("parser", _PARSERS)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=30))
def test_parsers_keep_length_and_never_flag_null(parser: object, cells: list[str | None]) -> None:
    parsed = parser(cells)  # type: ignore[operator]
    assert len(parsed.values) == len(cells) == len(parsed.invalid)
    assert parsed.invalid.dtype == np.bool_
    nulls = np.array([c is None for c in cells], dtype=bool)
    assert not parsed.invalid[nulls].any()
    # an invalid cell has no value
    assert all(parsed.values[i].as_py() is None for i in np.nonzero(parsed.invalid)[0])


def test_explicit_plus_signs_parse() -> None:
    # a regression found by hypothesis: Arrow's integer cast refuses a leading '+'
    assert cleaning.parse_integer(pa.array(["+0", "+12", "-3"])).values.to_pylist() == [0, 12, -3]


def test_masked_ids_and_accounts_are_recognised() -> None:
    cells = [
        "1******6198",
        "**博(156******89)",
        "##密文",
        "$$密文",
        "C0001",
        "a*b",
        "li@x.cn",
        None,
    ]
    assert cleaning.is_masked(pa.array(cells)).tolist() == [
        True,
        True,
        True,
        True,
        False,
        False,  # one star is no mask (a product code such as A*B can hold one)
        False,
        False,
    ]


def test_phone_keys_are_stable_and_hide_the_number() -> None:
    keys = cleaning.phone_keys(pa.array(["13812345678", None, "13812345678", "+31612345678"]))
    first, missing, again, other = keys.to_pylist()
    assert first == again and first != other and missing is None
    assert first.startswith("tel-") and len(first) == 20 and "13812345678" not in first
