"""Imports of survey answers (Wenjuanxing/问卷星, SurveyMonkey, Typeform exports) and of
tickets from another helpdesk: CSV or Excel, Chinese or English headers.

Files are read with the importer's readers and cleaned with its whole-column parsers
(:mod:`patron.ingest.reading`, :mod:`patron.ingest.cleaning`); a rejected row is reported by
its file line and column, in the reader's language. All or nothing: one bad row and nothing
is written, unless ``skip_bad``; then the good rows are written and the bad ones reported.
"""

from patron.service.imports.base import RowError, ServiceImportReport
from patron.service.imports.responses import responses_import
from patron.service.imports.tickets import tickets_import

__all__ = ["RowError", "ServiceImportReport", "responses_import", "tickets_import"]
