"""Shared data and helpers for the CLV model tests.

lifetimes 0.11.3 is a test-only reference. Every test in this directory runs with
RuntimeWarning turned into an error, so any overflow, division by zero or invalid value in our
code fails the test; lifetimes itself is always called inside ``quiet()``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from clv_support import quiet

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == HERE:
            item.add_marker(pytest.mark.filterwarnings("error::RuntimeWarning"))


@pytest.fixture(scope="session")
def cdnow_rft() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CDNOW summary (2,357 customers, weeks) as shipped with lifetimes."""
    with quiet():
        from lifetimes.datasets import load_cdnow_summary

        df = load_cdnow_summary(index_col=[0])
    return (
        df["frequency"].to_numpy(float),
        df["recency"].to_numpy(float),
        df["T"].to_numpy(float),
    )


@pytest.fixture(scope="session")
def cdnow_rfm() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    with quiet():
        from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

        df = load_cdnow_summary_data_with_monetary_value()
    return (
        df["frequency"].to_numpy(float),
        df["recency"].to_numpy(float),
        df["T"].to_numpy(float),
        df["monetary_value"].to_numpy(float),
    )


@pytest.fixture(scope="session")
def donations() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fader, Hardie & Shang's donation data: 11,104 donors, 6 opportunities, as 22 rows."""
    with quiet():
        from lifetimes.datasets import load_donations

        df = load_donations()
    return (
        df["frequency"].to_numpy(float),
        df["recency"].to_numpy(float),
        df["periods"].to_numpy(float),
        df["weights"].to_numpy(float),
    )
