"""Customer records (persons, then duplicates) with their descriptive columns and table."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from patron.demo import catalog
from patron.demo.generator._arrays import _EPOCH, Ints, _money, _norm, _quantile, _take
from patron.demo.generator._products import _SEGMENTS
from patron.demo.generator.contacts import _emails, _name_variant, _names, _phone, _unique_mobiles
from patron.demo.generator.duplicates import _Duplicates
from patron.demo.generator.people import _People
from patron.demo.generator.rates import FORMATTED_PHONE_RATE, MALFORMED_PHONE_RATE
from patron.demo.generator.schemas import CUSTOMERS_SCHEMA


class _Attributes:
    """Customer records (persons first, then duplicates) and their descriptive columns."""

    def __init__(
        self,
        rng: np.random.Generator,
        people: _People,
        dups: _Duplicates,
        start: date,
        end: date,
    ) -> None:
        P, D = people.n, dups.n
        self.n = n = P + D
        self.person = src = np.concatenate([np.arange(P), dups.source]).astype(np.int64)
        self.is_dup = np.arange(n) >= P
        early = rng.random(P) < 0.2  # registered a while before the first purchase
        acq = np.where(early, people.birth - rng.uniform(1, 90, P), people.birth)
        self.acq_t = np.concatenate([acq, dups.acq_t])

        gender = rng.choice(3, P, p=[0.48, 0.48, 0.04])
        names, pinyin = _names(rng, gender)
        self.gender = [("m", "f", "u")[g] for g in gender[src]]
        numbers = _unique_mobiles(rng, P + D)
        style = rng.choice(3, P, p=_norm([1 - MALFORMED_PHONE_RATE - FORMATTED_PHONE_RATE,
                                          FORMATTED_PHONE_RATE, MALFORMED_PHONE_RATE]))  # fmt: skip
        style[dups.source] = np.minimum(style[dups.source], 1)  # duplicates must be findable
        variant = rng.integers(0, 5, P)
        phones = [_phone(int(numbers[i]), int(style[i]), int(variant[i])) for i in range(P)]
        emails = _emails(rng, P, pinyin)

        self.has_email = np.zeros(n, bool)
        self.has_email[:P] = [e is not None for e in emails]
        dup_names, dup_phones, dup_emails = [], [], []
        for j, s in enumerate(dups.source.tolist()):
            u = dups.u[j]
            dup_names.append(_name_variant(names[s], pinyin[s], int(dups.name_variant[j]), u[0]))
            if dups.by_email[j] and emails[s] is not None:
                e = emails[s]
                local, _, dom = e.partition("@")
                dup_emails.append(
                    e.upper() if u[1] < 0.5 else f"{local[:1].upper()}{local[1:]}@{dom.upper()}"
                )
                dup_phones.append(str(int(numbers[P + j])))  # a new phone number
            else:
                plain = str(int(numbers[s]))
                v = _phone(int(numbers[s]), 1, int(u[2] * 4))
                dup_phones.append(v if v != phones[s] else plain)
                dup_emails.append(emails[s] if dups.keep_email[j] else None)
        self.has_email[P:] = [e is not None for e in dup_emails]
        self.name = names + dup_names
        self.phone = phones + dup_phones
        self.email = emails + dup_emails

        # Birth date: by occupation's age range, 20% unknown (40% for duplicates).
        occ = people.occupation
        lo = np.array([o.adult_age[0] for o in catalog.OCCUPATIONS])[occ]
        hi = np.array([o.adult_age[1] for o in catalog.OCCUPATIONS])[occ]
        age_days = (lo + rng.random(P) * (hi - lo + 1)) * 365.25
        bday = (end - _EPOCH).days - np.floor(age_days).astype(np.int64)
        self.birth_day = bday[src]
        self.birth_null = rng.random(n) < np.where(self.is_dup, 0.4, 0.2)

        self.region = people.region[src]
        self.occupation = occ[src]
        b2b = people.b2b[src] & ~self.is_dup  # the duplicate of a buyer is the person privately
        acq_names = [c[0] for c in catalog.ACQUISITION_CHANNELS] + [catalog.B2B_ACQUISITION[0]]
        acq_mean = np.array(
            [c[2] for c in catalog.ACQUISITION_CHANNELS] + [catalog.B2B_ACQUISITION[1]]
        )
        channel = rng.choice(
            len(catalog.ACQUISITION_CHANNELS),
            n,
            p=_norm([c[1] for c in catalog.ACQUISITION_CHANNELS]),
        )
        self.acq_channel = np.where(people.b2b[src], len(acq_names) - 1, channel)
        self.acq_channel_names = acq_names
        self.acq_cost = np.round(rng.gamma(4.0, acq_mean[self.acq_channel] / 4.0) * 100.0).astype(
            np.int64
        )
        self.consent_sms = rng.random(n) < 0.72
        self.consent_phone = rng.random(n) < 0.35
        self.consent_email = self.has_email & (rng.random(n) < 0.55)

        company_b2b = people.b2b[src]
        brand = rng.integers(0, len(catalog.COMPANY_BRANDS), n)
        trade = rng.integers(0, len(catalog.COMPANY_TRADES), n)
        self.company = [
            f"{catalog.REGIONS[self.region[i]][1]}{catalog.COMPANY_BRANDS[brand[src[i]]]}"
            f"{catalog.COMPANY_TRADES[trade[src[i]]]}有限公司"
            if company_b2b[i]
            else None
            for i in range(n)
        ]
        limits = np.array([5_000, 10_000, 20_000, 30_000, 50_000, 100_000]) * 100
        self.credit_limit = limits[rng.integers(0, limits.size, n)]
        self.credit_null = ~b2b

        pref = catalog.category_preference()
        veg = np.array([pref[s]["素食"] for s in _SEGMENTS])[people.segment]
        tea = np.array([pref[s]["零售-茶叶"] for s in _SEGMENTS])[people.segment]
        value = people.lam * people.zeta
        tag_flags = np.column_stack(
            [
                (_quantile(value) > 0.95) & (rng.random(P) < 0.8),  # VIP
                (veg >= 0.2) & (rng.random(P) < 0.35),  # 素食偏好
                rng.random(P) < 0.08,  # 不吃辣
                rng.random(P) < 0.12,  # 生日会员
                (people.delivery > 0.5) & (rng.random(P) < 0.6),  # 外卖常客
                people.b2b,  # 企业客户
                (people.birth < 180) & (rng.random(P) < 0.25),  # 老客户
                (tea >= 0.08) & (rng.random(P) < 0.3),  # 爱喝茶
            ]
        )
        code = np.r_[tag_flags @ (1 << np.arange(len(catalog.TAGS))), np.zeros(D, np.int64)]
        spelled = [",".join(t for k, t in enumerate(catalog.TAGS) if c >> k & 1) or None
                   for c in range(1 << len(catalog.TAGS))]  # fmt: skip
        self.tags = _take(pa.array(spelled, pa.string()), code)
        self.start = start

    def table(self, ids_by_rank: pa.Array, by_rank: Ints) -> pa.Table:
        def strings(values: list[str | None] | list[str]) -> pa.Array:
            return _take(pa.array(values, pa.string()), by_rank)

        regions = catalog.REGIONS
        occupations = pa.array([o.name for o in catalog.OCCUPATIONS])
        epoch_start = (self.start - _EPOCH).days
        acq_day = np.floor(self.acq_t).astype(np.int64) + epoch_start
        return pa.Table.from_arrays(
            [
                ids_by_rank,
                strings(self.name),
                strings(self.phone),
                strings(self.email),
                strings(self.gender),
                pa.array(
                    self.birth_day[by_rank].astype(np.int32),
                    pa.date32(),
                    mask=self.birth_null[by_rank],
                ),
                _take(pa.array([r[0] for r in regions]), self.region[by_rank]),
                _take(pa.array([r[1] for r in regions]), self.region[by_rank]),
                _take(occupations, self.occupation[by_rank]),
                _take(pa.array(self.acq_channel_names), self.acq_channel[by_rank]),
                pa.array(acq_day[by_rank].astype(np.int32), pa.date32()),
                _money(self.acq_cost[by_rank]),
                pa.array(self.consent_sms[by_rank]),
                pa.array(self.consent_email[by_rank]),
                pa.array(self.consent_phone[by_rank]),
                self.tags.take(pa.array(by_rank)),
                strings(self.company),
                _money(self.credit_limit[by_rank], null=self.credit_null[by_rank]),
            ],
            schema=CUSTOMERS_SCHEMA,
        )
