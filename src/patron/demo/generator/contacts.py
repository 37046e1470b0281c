"""Names, mobile numbers and e-mail addresses, with the variants a second record would show."""

from __future__ import annotations

import numpy as np

from patron.demo import catalog
from patron.demo.generator._arrays import Ints, _norm
from patron.demo.generator.rates import EMAIL_RATE


def _names(rng: np.random.Generator, gender: Ints) -> tuple[list[str], list[tuple[str, str]]]:
    """姓名 per person, and (surname, given name) in pinyin for e-mail addresses."""
    n = gender.size
    sur = rng.choice(len(catalog.SURNAMES), n, p=_norm([s[2] for s in catalog.SURNAMES]))
    two = rng.random(n) < 0.75
    g = rng.random((n, 2))
    english = rng.random(n) < 0.02
    e = rng.random(n)
    pools = (catalog.GIVEN_M, catalog.GIVEN_F, catalog.GIVEN_U)
    eng = (catalog.ENGLISH_M, catalog.ENGLISH_F, catalog.ENGLISH_M + catalog.ENGLISH_F)
    names: list[str] = []
    pinyin: list[tuple[str, str]] = []
    for i in range(n):
        s_char, s_py, _ = catalog.SURNAMES[sur[i]]
        gi = int(gender[i])
        if english[i]:
            first = eng[gi][int(e[i] * len(eng[gi]))]
            names.append(f"{first} {s_py.capitalize()}")
            pinyin.append((s_py, first.lower()))
            continue
        pool = pools[gi]
        c1 = pool[int(g[i, 0] * len(pool))]
        chars, py = c1[0], c1[1]
        if two[i]:
            c2 = pool[int(g[i, 1] * len(pool))]
            chars, py = chars + c2[0], py + c2[1]
        names.append(s_char + chars)
        pinyin.append((s_py, py))
    return names, pinyin


def _name_variant(name: str, pinyin: tuple[str, str], kind: int, u: float) -> str:
    """The same person's name as typed at another till: same, spaced, padded, pinyin, typo."""
    if " " in name or kind == 0:  # English names are kept as they are
        return name
    surname = next((s for s, _, _ in catalog.SURNAMES if len(s) == 2 and name.startswith(s)), "")
    surname = surname or name[:1]
    given = name[len(surname) :]
    if kind == 1:
        return f"{surname} {given}"
    if kind == 2:
        return name + " "
    if kind == 3:
        return f"{pinyin[1].capitalize()} {pinyin[0].capitalize()}"
    pool = catalog.GIVEN_M + catalog.GIVEN_F
    replacement = pool[int(u * len(pool))][0]
    return surname + given[:-1] + (replacement if replacement != given[-1:] else "一")


def _unique_mobiles(rng: np.random.Generator, n: int) -> Ints:
    prefixes = np.array(catalog.MOBILE_PREFIXES, dtype=np.int64)
    out = prefixes[rng.integers(0, prefixes.size, n)] * 10**8 + rng.integers(0, 10**8, n)
    while True:
        _, first = np.unique(out, return_index=True)
        again = np.ones(n, bool)
        again[first] = False
        if not again.any():
            return out
        k = int(again.sum())
        out[again] = prefixes[rng.integers(0, prefixes.size, k)] * 10**8 + rng.integers(0, 10**8, k)


def _phone(number: int, style: int, variant: int) -> str:
    """style 0: plain 11 digits; 1: valid but written with +86, spaces or dashes; 2: malformed."""
    s = str(number)
    if style == 0:
        return s
    if style == 1:
        return (
            f"+86 {s[:3]} {s[3:7]} {s[7:]}",
            f"{s[:3]}-{s[3:7]}-{s[7:]}",
            f"+86{s}",
            f"{s[:3]} {s[3:7]} {s[7:]}",
        )[variant % 4]
    return (
        f"{s[:3]}-{s[3:7]}-{s[7:10]}",
        s[:5],
        s[:10],
        s + s[-1],
        f"0755-{s[3:11]}",
    )[variant % 5]


def _emails(rng: np.random.Generator, n: int, pinyin: list[tuple[str, str]]) -> list[str | None]:
    has = rng.random(n) < EMAIL_RATE
    domains = [d for d, _ in catalog.EMAIL_DOMAINS]
    dom = rng.choice(len(domains), n, p=_norm([w for _, w in catalog.EMAIL_DOMAINS]))
    pattern = rng.integers(0, 4, n)
    qq = rng.integers(10_000_000, 3_000_000_000, n)
    num = rng.integers(1, 100, n)
    year = rng.integers(1970, 2008, n)
    seen: set[str] = set()
    out: list[str | None] = []
    for i in range(n):
        if not has[i]:
            out.append(None)
            continue
        sur, given = pinyin[i]
        domain = domains[dom[i]]
        p = int(pattern[i])
        if domain == "qq.com" and p < 3:
            local = str(qq[i])
        elif p == 0:
            local = f"{given}{sur}{num[i]}"
        elif p == 1:
            local = f"{sur}.{given}"
        elif p == 2:
            local = f"{sur}{given}{year[i]}"
        else:
            local = f"{given[:1]}{sur}{num[i]:02d}"
        email = f"{local}@{domain}"
        k = 0
        while email in seen:
            k += 1
            email = f"{local}{k}@{domain}"
        seen.add(email)
        out.append(email)
    return out
