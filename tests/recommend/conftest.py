"""The small tea shop (patron.demo.recommend) in the store."""

from __future__ import annotations

import pytest

from patron.demo.recommend import AS_OF, tea_shop_create

__all__ = ["AS_OF"]


@pytest.fixture
def shop(db: None) -> dict[str, object]:
    return tea_shop_create()
