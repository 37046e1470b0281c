"""Errors the importer reports to a person, each with a stable code."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from patron.core.errors import PatronError


class IngestErrorCode(StrEnum):
    """Stable codes of :class:`IngestError` (the API and ``--json`` output carry them)."""

    FILE_NOT_FOUND = "ingest.file_not_found"
    UNSUPPORTED_FORMAT = "ingest.unsupported_format"
    UNREADABLE_FILE = "ingest.unreadable_file"
    UNKNOWN_ENCODING = "ingest.unknown_encoding"
    DECODE_ERROR = "ingest.decode_error"
    MALFORMED_FILE = "ingest.malformed_file"
    EMPTY_FILE = "ingest.empty_file"
    SHEET_NOT_FOUND = "ingest.sheet_not_found"
    AMBIGUOUS_DATE_FORMAT = "ingest.ambiguous_date_format"
    INVALID_DATE_FORMAT = "ingest.invalid_date_format"
    UNKNOWN_TIMEZONE = "ingest.unknown_timezone"
    BAD_MAPPING = "ingest.bad_mapping"
    MISSING_COLUMN = "ingest.missing_column"
    TOO_LARGE = "ingest.too_large"  # past a size limit of reading.limits: refused unread
    UNSAFE_ARCHIVE = "ingest.unsafe_archive"  # ../ names or an archive inside the archive
    ORDER_CONFLICT = "ingest.order_conflict"  # rows of one order name different customers
    STORE_BUSY = "ingest.store_busy"  # another import holds the tables: try again
    DATABASE_REFUSED = "ingest.database_refused"  # the store refused a write: all rolled back


class RowErrorCode(StrEnum):
    """Why a row was rejected (``errors[].code`` in the report): stable for scripts."""

    INVALID_VALUE = "row.invalid_value"  # not of the field's kind (a date, an amount...)
    MISSING_VALUE = "row.missing_value"  # a required cell is blank
    SCIENTIFIC_ID = "row.scientific_id"  # an id Excel turned into 4.00123E+27: digits lost
    MASKED_ID = "row.masked_id"  # a masked id (1******6198) never names a customer
    NO_CUSTOMER = "row.no_customer"  # nothing on the row names its customer
    ROW_SHAPE = "row.shape"  # more cells than the header has names
    TOO_LONG = "row.too_long"  # longer than the store keeps for the field
    DATE_OUT_OF_RANGE = "row.date_out_of_range"  # before 1970 or after tomorrow (settable)
    CONFLICT = "row.conflict"  # disagrees with an earlier row of the same order
    BAD_TEXT = "row.bad_text"  # NUL bytes, a byte-order mark or mixed encodings in a cell


class IngestError(PatronError):
    """A file or option the importer cannot work with; ``code`` says which problem."""

    default_code = IngestErrorCode.UNREADABLE_FILE

    def __init__(self, message: str, *, code: IngestErrorCode, extra: Any = None) -> None:
        super().__init__(message, code=code, extra=extra)
        self.code: IngestErrorCode = code
