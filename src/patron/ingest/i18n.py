"""The importer's messages in the language of the person who reads them.

Messages are English msgids, translated with Django's gettext when they are built, in the
active language: the request's on a page, the requester's in a background job (see
:mod:`patron.jobs.services`), English (``LANGUAGE_CODE``) on the command line. Placeholders
are named (``%(line)s``) and filled in after translation.

The readers and the validation also run without Django (the file-only ``patron analyze
--source``, which never sets Django up): there the English text is used as it is, and
nothing here imports Django.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

ENGLISH = "en"
CHINESE = "zh-hans"
# Chinese sentences follow each other without a space.
_CLOSES_WITHOUT_SPACE = ("。", "；", "：", "！", "？")


def gettext_noop(message: str) -> str:
    """Mark ``message`` for ``makemessages`` without translating it (a module constant);
    :func:`gettext` translates it where a message is built."""
    return message


def django_ready() -> bool:
    """Whether Django's apps are loaded (settings and translations can be used)."""
    return _django_ready()


def _django_ready() -> bool:
    apps = sys.modules.get("django.apps")
    return apps is not None and apps.apps.apps_ready


def django_setting(name: str, default: object) -> object:
    """A Django setting when Django is loaded (the order-date window), ``default`` without it
    (the file-only analysis, which reads the same variables from the environment itself)."""
    if not _django_ready():
        return default
    from django.conf import settings

    return getattr(settings, name, default)


def gettext(message: str) -> str:
    """``message`` in the active language (Django's gettext); as it is without Django."""
    if not _django_ready():
        return message
    from django.utils.translation import gettext as translate

    return translate(message)


def language() -> str:
    """The active language as presets name their labels: ``"zh-hans"`` or ``"en"``."""
    if not _django_ready():
        return ENGLISH
    from django.utils.translation import get_language

    return CHINESE if (get_language() or "").lower().startswith("zh") else ENGLISH


def join_sentences(sentences: Iterable[str]) -> str:
    """Sentences one after another, as their language writes them: a space after an English
    sentence, none after a Chinese one."""
    text = ""
    for sentence in sentences:
        if text and not text.endswith(_CLOSES_WITHOUT_SPACE):
            text += " "
        text += sentence
    return text
