"""Distinct persons: BG/NBD and Gamma-Gamma traits, occupation, B2B, region and home store."""

from __future__ import annotations

import numpy as np

from patron.demo import catalog
from patron.demo.generator._arrays import _categorical_rows, _norm, _quantile
from patron.demo.generator._products import _B2B_SEG
from patron.demo.generator.rates import B2B_SHARE, BIRTHS, DELIVERY_BETA


class _People:
    """Latent traits and purchase histories of the distinct persons."""

    def __init__(
        self,
        rng: np.random.Generator,
        n: int,
        days: float,
        bg: dict[str, float],
        gg: dict[str, float],
    ) -> None:
        self.n = n
        opening = rng.random(n) < BIRTHS["opening_share"]
        self.birth = np.where(
            opening, rng.uniform(0.0, min(days, BIRTHS["opening_days"]), n), rng.uniform(0, days, n)
        )
        self.T = days - self.birth
        self.lam = rng.gamma(bg["r"], 1.0 / bg["alpha"], n)
        self.p = np.clip(rng.beta(bg["a"], bg["b"], n), 1e-9, 1.0)
        self.nu = rng.gamma(gg["q"], 1.0 / gg["v"], n)
        self.spend_shape = gg["p"]
        self.zeta = gg["p"] / self.nu
        n_events = rng.poisson(self.lam * self.T)
        last = rng.geometric(self.p)  # the repeat purchase after which the customer drops out
        self.k = np.minimum(n_events, last)  # repeat purchases seen
        self.alive = n_events < last
        # Given n events in (0, T], the k-th of the sorted uniform times is Beta(k, n - k + 1).
        has = self.k > 0
        self.last_frac = np.zeros(n)
        self.last_frac[has] = rng.beta(self.k[has], n_events[has] - self.k[has] + 1)
        self.dropout_t = np.where(self.alive, np.nan, self.birth + self.last_frac * self.T)

        u_spend = _quantile(self.zeta)
        u_freq = _quantile(self.lam)
        u_drop = _quantile(self.p)
        occ = catalog.OCCUPATIONS
        logits = (
            np.log([o.share for o in occ])[None, :]
            + np.array([o.spend_tilt for o in occ])[None, :] * (u_spend[:, None] - 0.5)
            + np.array([o.frequency_tilt for o in occ])[None, :] * (u_freq[:, None] - 0.5)
            + np.array([o.dropout_tilt for o in occ])[None, :] * (u_drop[:, None] - 0.5)
        )
        self.occupation = _categorical_rows(rng, np.exp(logits))
        # B2B buyers: ~3% of persons, drawn among working adults, heavier at high spend.
        names = [o.name for o in occ]
        eligible = ~np.isin(self.occupation, [names.index("学生"), names.index("退休")])
        keys = np.where(eligible, 3.0 * u_spend + rng.gumbel(size=n), -np.inf)
        n_b2b = min(round(B2B_SHARE * n), int(eligible.sum()))
        self.b2b = np.zeros(n, bool)
        if n_b2b:
            self.b2b[np.argpartition(-keys, n_b2b - 1)[:n_b2b]] = True
        self.segment = np.where(self.b2b, _B2B_SEG, self.occupation)

        regions = catalog.REGIONS
        self.region = rng.choice(len(regions), n, p=_norm([r[2] for r in regions]))
        n_stores = np.array([len(r[3]) for r in regions])
        store_of = [[catalog.STORES.index(s) for s in r[3]] for r in regions]
        pick = np.floor(rng.random(n) * np.maximum(n_stores[self.region], 1)).astype(np.int64)
        online = catalog.STORES.index(catalog.ONLINE_STORE)
        table = np.full((len(regions), max(n_stores.max(), 1)), online)
        for i, s in enumerate(store_of):
            table[i, : len(s)] = s
        self.home_store = table[self.region, pick]
        self.delivery = rng.beta(*DELIVERY_BETA, n)
