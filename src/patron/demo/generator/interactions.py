"""Customer interactions (visits, calls, e-mails, notes, surveys) and complaints after returns."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from patron.demo import catalog
from patron.demo.generator._arrays import Floats, Ints, _categorical_rows, _norm, _take, _timestamps
from patron.demo.generator.attributes import _Attributes
from patron.demo.generator.rates import INTERACTIONS_PER_CUSTOMER, RETURN_COMPLAINT_SHARE
from patron.demo.generator.schemas import INTERACTIONS_SCHEMA


def _interactions(
    rng: np.random.Generator,
    attrs: _Attributes,
    sales_per_record: Ints,
    return_record: Ints,
    return_t: Floats,
    ids_by_record: pa.Array,
    start: date,
    days: float,
) -> pa.Table:
    """~0.3 contacts per customer, more for frequent buyers; a complaint for some returns."""
    n = attrs.n
    complaint = rng.random(return_t.size) < RETURN_COMPLAINT_SHARE
    budget = max(0.0, INTERACTIONS_PER_CUSTOMER * n - complaint.sum())
    weight = 0.5 + 0.5 * sales_per_record / max(sales_per_record.mean(), 1e-9)
    counts = rng.poisson(budget / max(n, 1) * weight)
    rec = np.repeat(np.arange(n), counts)
    since = np.maximum(attrs.acq_t[rec], 0.0)
    t = since + rng.random(rec.size) * (days - since)
    kinds = catalog.INTERACTION_KINDS
    kind = rng.choice(len(kinds), rec.size, p=_norm(catalog.INTERACTION_KIND_SHARES))
    kind = np.where((kind == kinds.index("email")) & ~attrs.has_email[rec], 1, kind)
    texts = [catalog.INTERACTION_TEXTS[k] for k in kinds]
    chan_w = np.array([w for w, _ in texts], dtype=np.float64)
    channel = _categorical_rows(rng, chan_w[kind])
    n_text = np.array([len(tx) for _, tx in texts])
    offset = np.r_[0, np.cumsum(n_text)[:-1]]
    text = offset[kind] + np.floor(rng.random(rec.size) * n_text[kind]).astype(np.int64)
    all_texts = [x for _, tx in texts for x in tx] + list(catalog.RETURN_COMPLAINT_TEXTS)

    m = int(complaint.sum())
    r_rec = return_record[complaint]
    r_t = np.minimum(return_t[complaint] + rng.uniform(0.0, 0.02, m), np.nextafter(days, 0))
    r_channel = rng.choice(3, m, p=[0.4, 0.3, 0.3])
    n_ret_texts = len(catalog.RETURN_COMPLAINT_TEXTS)
    r_text = n_text.sum() + np.floor(rng.random(m) * n_ret_texts).astype(np.int64)

    rec = np.concatenate([rec, r_rec])
    t = np.concatenate([t, r_t])
    kind = np.concatenate([kind, np.full(m, kinds.index("complaint"))])
    channel = np.concatenate([channel, r_channel])
    text = np.concatenate([text, r_text])
    o = np.argsort(t, kind="stable")
    return pa.Table.from_arrays(
        [
            _take(ids_by_record, rec[o]),
            _take(pa.array(kinds), kind[o]),
            _take(pa.array(catalog.INTERACTION_CHANNELS), channel[o]),
            _take(pa.array(all_texts), text[o]),
            _timestamps(t[o], start),
        ],
        schema=INTERACTIONS_SCHEMA,
    )
