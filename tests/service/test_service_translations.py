"""Every text of the service app has its Chinese translation, and the committed .mo holds it."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import patron.service

LOCALE = Path(patron.service.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"


def _entries() -> list[tuple[str, str]]:
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    pairs = []
    for block in text.split("\n\n"):
        msgid = re.search(r'^msgid ((?:"[^\n]*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:"[^\n]*"\n?)+)', block, re.M)
        if msgid and msgstr:
            join = lambda m: "".join(x[1:-1] for x in m.group(1).strip().split("\n"))  # noqa: E731
            if join(msgid):
                pairs.append(
                    (
                        join(msgid)
                        .encode()
                        .decode("unicode_escape")
                        .encode("latin-1")
                        .decode("utf-8"),
                        join(msgstr),
                    )
                )
    return pairs


def test_every_message_is_translated_and_compiled() -> None:
    entries = _entries()
    assert len(entries) > 200
    untranslated = [msgid for msgid, msgstr in entries if not msgstr]
    assert not untranslated, untranslated
    with (LOCALE / "django.mo").open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    stale = [
        msgid
        for msgid, msgstr in entries
        if "%(n)s" not in msgid
        and " once" not in msgid
        and msgstr != msgid
        and catalog.gettext(msgid) == msgid
    ]
    assert not stale, f"recompile django.mo: {stale[:5]}"
