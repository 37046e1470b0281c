"""The package: public names, no Django, cheap import, docstring examples that run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys

import pytest

import patron.analytics

MODULES = [
    "summary",
    "rfm",
    "segments",
    "tiers",
    "concentration",
    "profitability",
    "migration",
    "kpis",
    "diagnosis",
    "relationship",
    "category_spend",
    "purchase_models",
    "predictive",
    "churn",
]


#: Every module of the package, found on disk (so a new one is checked without a list to edit).
ALL_MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(patron.analytics.__path__, prefix="patron.analytics.")
)


def test_every_module_is_found() -> None:
    assert {f"patron.analytics.{m}" for m in MODULES} < set(ALL_MODULES)
    assert {
        "patron.analytics.churn",
        "patron.analytics.predictive",
        "patron.analytics.report",
        "patron.analytics.clv",
        "patron.analytics.clv.bgnbd",
        "patron.analytics.clv._special",
    } < set(ALL_MODULES)


def test_public_names_resolve() -> None:
    for name in patron.analytics.__all__:
        assert getattr(patron.analytics, name) is not None, name
    assert patron.analytics.customer_migration.__module__ == "patron.analytics.migration"
    with pytest.raises(AttributeError):
        _ = patron.analytics.no_such_name


def test_no_django_and_a_cheap_package_import() -> None:
    # a fresh interpreter: pytest-django has already imported Django in this one
    code = (
        "import sys, patron.analytics as a\n"
        "assert 'ibis' not in sys.modules and 'pandas' not in sys.modules, 'heavy import'\n"
        + "".join(f"import {m}\n" for m in ALL_MODULES)
        + "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not bad, bad\n"
        "above = sorted(m for m in sys.modules if m.startswith('patron.')\n"
        "               and not m.startswith('patron.analytics'))\n"
        "assert not above, above\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module: str) -> None:
    mod = importlib.import_module(f"patron.analytics.{module}")
    failures, tried = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
    assert tried > 0 or module in {"kpis", "predictive"}
