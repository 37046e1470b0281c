"""Package-level guarantees: doctests, no Django, lifetimes only as a test reference."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import patron.analytics.clv as clv

SRC = Path(clv.__file__).parent
MODULES = sorted(f"patron.analytics.clv.{m.name}" for m in pkgutil.iter_modules([str(SRC)]))


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(
        importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0


def test_importing_the_package_pulls_in_neither_django_nor_lifetimes() -> None:
    code = (
        "import sys, patron.analytics.clv, patron.analytics.clv.simulate;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'lifetimes', 'pandas')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_sources_never_mention_django_or_lifetimes_imports() -> None:
    for path in SRC.glob("*.py"):
        text = path.read_text()
        assert "import django" not in text and "from django" not in text, path
        assert "import lifetimes" not in text and "from lifetimes" not in text, path
