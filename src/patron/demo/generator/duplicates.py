"""Extra customer records for persons already known, for the duplicate finder."""

from __future__ import annotations

import numpy as np

from patron.demo.generator.people import _People


class _Duplicates:
    """~1% extra customer records for persons already known (for the duplicate finder)."""

    def __init__(self, rng: np.random.Generator, people: _People, n: int, days: float) -> None:
        self.n = n
        self.source = np.sort(rng.choice(people.n, n, replace=False)) if n else np.zeros(0, int)
        b = people.birth[self.source]
        self.acq_t = b + rng.random(n) * (days - b)
        self.record_of_person = np.arange(people.n)
        self.record_of_person[self.source] = people.n + np.arange(n)
        self.acq_t_of_person = np.full(people.n, np.inf)
        self.acq_t_of_person[self.source] = self.acq_t
        self.by_email = rng.random(n) < 0.5  # found by e-mail case (if any), else by phone
        self.keep_email = rng.random(n) < 0.5
        self.name_variant = rng.choice(5, n, p=[0.45, 0.2, 0.1, 0.1, 0.15])
        self.u = rng.random((n, 4))
