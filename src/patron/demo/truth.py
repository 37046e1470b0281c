"""The ground truth a demo business was simulated from, for checking the analytics against."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

# Purchase process (Fader, Hardie & Lee 2005), time unit = one day:
# repeat purchases of a customer arrive as a Poisson process with rate λ ~ Gamma(r, rate α);
# after each repeat purchase the customer drops out for good with probability p ~ Beta(a, b).
DEFAULT_BGNBD: dict[str, float] = {"r": 0.8, "alpha": 40.0, "a": 0.9, "b": 4.0}

# Spend per order (Fader, Hardie & Lee 2005b "Gamma-Gamma"): ν ~ Gamma(q, rate v) per customer,
# each order's spend ~ Gamma(p, rate ν); the customer's mean spend is ζ = p / ν and
# E[ζ] = p v / (q - 1) = ¥80 with these values.
DEFAULT_GAMMA_GAMMA: dict[str, float] = {"p": 6.0, "q": 4.0, "v": 40.0}


@dataclass(frozen=True)
class DemoTruth:
    """Parameters and rates the demo business was generated with (see docs/demo.md).

    Times are in days. The observation runs from ``start`` 00:00 to the end of ``end`` (both
    local, Asia/Shanghai); ``end`` is the as-of date of an analysis of the whole history.
    """

    seed: int
    start: date
    end: date
    n_customers: int  # rows in the customers table, duplicates included
    bgnbd: dict[str, float]
    gamma_gamma: dict[str, float]
    n_persons: int = 0  # distinct people (n_customers minus duplicate records)
    n_duplicates: int = 0
    births: dict[str, float] = field(default_factory=dict)
    occupations: dict[str, dict[str, float]] = field(default_factory=dict)
    category_preference: dict[str, dict[str, float]] = field(default_factory=dict)
    b2b_share: float = 0.0
    return_rate: float = 0.0
    return_delay_days: tuple[float, float] = (1.0, 10.0)
    full_return_share: float = 0.0
    duplicate_rate: float = 0.0
    malformed_phone_rate: float = 0.0
    formatted_phone_rate: float = 0.0
    email_rate: float = 0.0
    acquisition_channels: dict[str, dict[str, float]] = field(default_factory=dict)
    realised: dict[str, float] = field(default_factory=dict)

    @property
    def observation_days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def mean_purchase_rate(self) -> float:
        """E[λ] = r / α, repeat purchases per day while alive."""
        return self.bgnbd["r"] / self.bgnbd["alpha"]

    @property
    def mean_dropout_p(self) -> float:
        """E[p] = a / (a + b)."""
        return self.bgnbd["a"] / (self.bgnbd["a"] + self.bgnbd["b"])

    @property
    def mean_spend(self) -> float:
        """E[ζ] = p v / (q - 1), yuan per order."""
        gg = self.gamma_gamma
        return gg["p"] * gg["v"] / (gg["q"] - 1.0)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy (dates as ISO strings, tuples as lists)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, dict):
                value = _plain(value)
            out[f.name] = value
        out["mean_purchase_rate"] = self.mean_purchase_rate
        out["mean_dropout_p"] = self.mean_dropout_p
        out["mean_spend"] = self.mean_spend
        return out


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) if isinstance(v, dict) else v for k, v in d.items()}
