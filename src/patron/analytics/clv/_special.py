"""Special functions in log space for the CLV likelihoods.

The models need the Gauss hypergeometric function ``2F1`` in regions where a direct
evaluation overflows or cancels (heavy buyers, ``a + b < 1``). We never take the logarithm of a
``2F1`` that can change sign; instead each model applies the Euler transformation
``2F1(a, b; c; z) = (1 - z)^(c - a - b) 2F1(c - a, c - b; c; z)`` analytically, which leaves
one of two benign forms:

* ``2F1(1, b; c; z)`` with ``0 < b < c`` and ``0 <= z < 1`` (Pareto/NBD): all series terms are
  positive and shrink at least geometrically, so :func:`log_hyp2f1_1b` sums the series and its
  parameter derivatives term by term (used for the analytic gradient);
* ``2F1(A, B; c; z)`` with small ``|A|, |B|`` and ``c`` growing with the frequency (BG/NBD
  expectations), where SciPy's ``hyp2f1`` is accurate and finite.

References
----------
.. [1] Abramowitz, M. and Stegun, I. A. (1972), *Handbook of Mathematical Functions*,
   eq. 15.3.3 (Euler's transformation) and 15.1.1 (the series).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import hyp2f1 as _scipy_hyp2f1

from ._validation import FloatArray

__all__ = ["hyp2f1", "log_diff_exp", "log_hyp2f1_1b"]

_SERIES_Z_MAX = 0.9
_MAX_TERMS = 20_000
_DIRECT_TERMS = 400


def log_diff_exp(a: ArrayLike, b: ArrayLike) -> FloatArray:
    """``log(exp(a) - exp(b))`` for ``a >= b``, computed without overflow or cancellation.

    Returns ``-inf`` where ``a == b`` (and where both are ``-inf``).

    Examples
    --------
    >>> float(log_diff_exp(0.0, np.log(0.25)))  # log(1 - 0.25)
    -0.2876820724517809
    """
    a_, b_ = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(a, b))
    d = b_ - a_
    out = np.full(a_.shape, -np.inf)
    mask = np.isfinite(a_) & (d < 0)
    out[mask] = a_[mask] + np.log(-np.expm1(d[mask]))
    return out


def hyp2f1(a: ArrayLike, b: ArrayLike, c: ArrayLike, z: ArrayLike) -> FloatArray:
    r"""Gauss hypergeometric function :math:`{}_2F_1(a, b; c; z)` for :math:`0 \le z < 1`.

    The series (A&S 15.1.1) is summed directly wherever it converges within a few hundred
    terms -- always when ``c`` is large compared with ``|a|`` and ``|b|``, the case of heavy
    buyers in the BG/NBD expectations, where SciPy 1.17's ``hyp2f1`` returns ``inf`` (e.g.
    ``(-0.5, -0.5; 99; 0.93)``, whose value is 1.0023). SciPy evaluates the rest (small ``c``
    with ``z`` near 1, where it uses its analytic continuations).

    Examples
    --------
    >>> round(float(hyp2f1(-0.5, -0.5, 99.0, 0.93)), 6)
    1.002351
    """
    a_, b_, c_, z_ = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(a, b, c, z))
    shape = a_.shape
    a_, b_, c_, z_ = a_.ravel(), b_.ravel(), c_.ravel(), z_.ravel()
    out = np.empty(a_.shape[0])
    act = np.arange(a_.shape[0])
    term = np.ones(act.shape[0])
    total = np.ones(act.shape[0])
    aa, bb, cc, zz = a_, b_, c_, z_
    for n in range(_DIRECT_TERMS):
        term = term * ((aa + n) * (bb + n) / ((cc + n) * (n + 1.0)) * zz)
        total = total + term
        ratio_ok = np.abs((aa + n + 1) * (bb + n + 1)) <= (cc + n + 1) * (n + 2.0)
        done = ratio_ok & (np.abs(term) <= 1e-17 * (1.0 - zz) * np.abs(total))
        if done.any():
            out[act[done]] = total[done]
            keep = ~done
            act, term, total = act[keep], term[keep], total[keep]
            aa, bb, cc, zz = aa[keep], bb[keep], cc[keep], zz[keep]
            if act.size == 0:
                break
    if act.size:
        value = np.asarray(_scipy_hyp2f1(aa, bb, cc, zz), dtype=np.float64)
        bad = ~np.isfinite(value)
        if bad.any():  # e.g. integer c - a - b: retry after Euler's transformation (15.3.3)
            a2, b2, c2, z2 = aa[bad], bb[bad], cc[bad], zz[bad]
            value[bad] = np.exp((c2 - a2 - b2) * np.log1p(-z2)) * _scipy_hyp2f1(
                c2 - a2, c2 - b2, c2, z2
            )
        out[act] = value
    return out.reshape(shape)


def log_hyp2f1_1b(
    b: ArrayLike, c: ArrayLike, z: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    r"""Logarithm of :math:`{}_2F_1(1, b; c; z)` and its partial derivatives.

    Valid for :math:`0 < b < c`, :math:`c > 1` and :math:`0 \le z < 1`, where every term of
    the series :math:`\sum_n (b)_n / (c)_n z^n` (A&S 15.1.1) is positive and the ratio of
    consecutive terms is below ``z``. For ``z <= 0.9`` the series and its derivatives with
    respect to ``b``, ``c`` and ``z`` are summed term by term to full double precision. Above,
    where the series needs ~37/(1-z) terms (and SciPy's ``hyp2f1`` returns ``inf`` for, e.g.,
    ``(1, 94; 144; 0.9375)``), the Euler integral is evaluated by panel quadrature, with the
    derivatives under the integral sign; the relative error stays below 1e-13 for ``c`` up to
    a few thousand (about 1e-10 at ``c ~ 10^6``).

    Returns
    -------
    log_h, dlog_h_db, dlog_h_dc, dlog_h_dz : ndarray
        Arrays of the broadcast shape of the inputs.

    Examples
    --------
    >>> log_h, _, _, _ = log_hyp2f1_1b(2.0, 3.0, 0.5)
    >>> bool(np.isclose(np.exp(log_h), 2.0 * (-np.log(0.5) - 0.5) / 0.25))  # closed form
    True
    """
    b_, c_, z_ = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(b, c, z))
    shape = b_.shape
    b_, c_, z_ = b_.ravel(), c_.ravel(), z_.ravel()
    outs = [np.empty(b_.shape[0]) for _ in range(4)]
    series = z_ <= _SERIES_Z_MAX
    for mask, fn in ((series, _series), (~series, _euler_quadrature_by_rows)):
        idx = np.flatnonzero(mask)
        if idx.size:
            for out, part in zip(outs, fn(b_[idx], c_[idx], z_[idx]), strict=True):
                out[idx] = part
    log_h, d_b, d_c, d_z = (o.reshape(shape) for o in outs)
    return log_h, d_b, d_c, d_z


def _series(
    b: FloatArray, c: FloatArray, z: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Term-by-term sums of 2F1(1, b; c; z) and of its b-, c- and z-derivatives."""
    n_el = b.shape[0]
    res = [np.empty(n_el) for _ in range(4)]
    act = np.arange(n_el)
    term = np.ones(n_el)
    d_b = np.zeros(n_el)  # d log(term_n) / db = sum_{j<n} 1 / (b + j)
    d_c = np.zeros(n_el)  # d log(term_n) / dc = -sum_{j<n} 1 / (c + j)
    s, s_b, s_c, s_z = np.ones(n_el), np.zeros(n_el), np.zeros(n_el), np.zeros(n_el)
    bb, cc, zz = b, c, z
    for n in range(_MAX_TERMS):
        ratio = (bb + n) / (cc + n)
        s_z += (n + 1) * term * ratio  # d/dz of term_{n+1} = (n + 1) term_{n+1} / z
        term = term * ratio * zz
        d_b += 1.0 / (bb + n)
        d_c -= 1.0 / (cc + n)
        s += term
        s_b += term * d_b
        s_c += term * d_c
        # Terms shrink at least like z^n, so the tail is below term * z / (1 - z); the
        # derivative tails carry the extra factors n, d_b and d_c.
        done = term * (n + 2.0 + d_b - d_c) <= 1e-17 * (1.0 - zz) ** 2 * s
        if done.any():
            idx = act[done]
            res[0][idx] = np.log(s[done])
            res[1][idx] = s_b[done] / s[done]
            res[2][idx] = s_c[done] / s[done]
            res[3][idx] = s_z[done] / s[done]
            keep = ~done
            if not keep.any():
                break
            act, term, d_b, d_c = act[keep], term[keep], d_b[keep], d_c[keep]
            s, s_b, s_c, s_z = s[keep], s_b[keep], s_c[keep], s_z[keep]
            bb, cc, zz = bb[keep], cc[keep], zz[keep]
    else:  # pragma: no cover - z <= 0.9 converges in well under 1,000 terms
        raise RuntimeError("2F1 series did not converge")
    return res[0], res[1], res[2], res[3]


def _panel_nodes() -> tuple[FloatArray, FloatArray, float]:
    """10-point Gauss-Legendre on 48 panels shrinking geometrically from 1/2 towards 0
    (16 points cost 60% more for values within 2e-14, derivatives within 5e-13, for ``c`` up
    to 3,000; 1e-10 apart at ``c ~ 10^6``)."""
    g_nodes, g_weights = np.polynomial.legendre.leggauss(10)
    edges = 0.5 * 2.0 ** -np.arange(49.0)
    lo, hi = edges[1:], edges[:-1]
    mid, half = (hi + lo) / 2, (hi - lo) / 2
    nodes = (mid[:, None] + half[:, None] * g_nodes[None, :]).ravel()
    weights = (half[:, None] * g_weights[None, :]).ravel()
    return nodes, weights, float(edges[-1])


_NODES, _WEIGHTS, _EPS = _panel_nodes()
# What does not depend on (b, c, z), once: log s, 1 - s and the log weights, left half then
# right half (s = u, then s = 1 - u).
_LOG_S = np.concatenate([np.log(_NODES), np.log1p(-_NODES)])
_ONE_MINUS_S = np.concatenate([1.0 - _NODES, _NODES])
_LOG_W = np.concatenate([np.log(_WEIGHTS), np.log(_WEIGHTS)])


#: Rows of the quadrature computed together: 32 x 961 doubles (246 KB) per temporary array.
#: Fewer rows pay NumPy's per-call overhead more often (8 rows took 1.6 times as long);
#: whole-batch temporaries (25 MB for 2,000 rows) are mapped and unmapped by each NumPy
#: operation, and the page faults then cost as much as the arithmetic.
_QUADRATURE_ROWS = 32
#: Distinct ``z`` whose integrand factors are kept at once (3 arrays of 7.9 MB).
_Z_CHUNK = 1024


def _euler_quadrature_by_rows(
    b: FloatArray, c: FloatArray, z: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """:func:`_euler_quadrature` on blocks of rows.

    ``z`` takes few distinct values (in the Pareto/NBD it depends on the time ``t`` only, on
    day-resolution data a few hundred values for any number of rows), so the factors of the
    integrand that depend on ``z`` alone -- ``log(1 - z + z s)`` and ``(1 - s) / (1 - z + z s)``
    at every node -- are computed once per distinct ``z`` and gathered by the rows, which
    then need no logarithm or division per node."""
    log_h, d_b, d_c, d_z = (np.empty(b.shape[0]) for _ in range(4))
    zu, zi = np.unique(z, return_inverse=True)
    zi = zi.ravel()
    # mostly distinct z: nothing to share, and small chunks keep the temporaries small
    step = _Z_CHUNK if 4 * zu.shape[0] <= z.shape[0] else _QUADRATURE_ROWS
    order = np.argsort(zi, kind="stable")
    bounds = np.searchsorted(zi[order], np.arange(0, zu.shape[0] + step, step))
    for chunk, first in enumerate(range(0, zu.shape[0], step)):
        zz = zu[first : first + step, None]
        u = _NODES[None, :]  # distance from the end of each half
        base = np.concatenate([(1.0 - zz) + zz * u, 1.0 - zz * u], axis=1)  # 1 - z + z s
        log_base = np.log(base)
        ratio = _ONE_MINUS_S / base
        rows_of_chunk = order[bounds[chunk] : bounds[chunk + 1]]
        for start in range(0, rows_of_chunk.shape[0], _QUADRATURE_ROWS):
            rows = rows_of_chunk[start : start + _QUADRATURE_ROWS]
            k = zi[rows] - first
            parts = _euler_quadrature(b[rows], c[rows], z[rows], log_base[k], ratio[k])
            for out, part in zip((log_h, d_b, d_c, d_z), parts, strict=True):
                out[rows] = part
    return log_h, d_b, d_c, d_z


def _euler_quadrature(
    b: FloatArray, c: FloatArray, z: FloatArray, log_base: FloatArray, ratio: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    r"""``2F1(1, b; c; z) = (c - 1) \int_0^1 s^{c-2} (1 - z + z s)^{-b} ds`` (A&S 15.3.1).

    For ``z`` near 1 the series is slow; the integrand then has features at ``s ~ 1 - z``
    (near 0) and ``1 - s ~ 1/c`` (near 1), so it is integrated on panels shrinking
    geometrically towards both ends (every scale down to 2^-49 is resolved; below, the
    ``s^{c-2}`` end is integrated in closed form). Derivatives are taken under the integral.
    ``log_base`` and ``ratio`` are ``log(1 - z + z s)`` and ``(1 - s) / (1 - z + z s)`` at
    the nodes, one row per row of ``b``.

    The log-sum-exp is taken as SciPy's ``logsumexp`` does (the largest term out of the sum,
    added back as ``log1p``), and its exponentials serve again as the weights of the
    derivatives: one ``exp`` per node.
    """
    bb, cc = b[:, None], c[:, None]
    terms = (cc - 2.0) * _LOG_S - bb * log_base + _LOG_W
    # closed-form sliver [0, eps] of the left end: s^{c-2} (1 - z)^{-b}
    sliver = (c - 1.0) * np.log(_EPS) - np.log(c - 1.0) - b * np.log1p(-z)
    top = np.maximum(np.max(terms, axis=1), sliver)
    weight = np.exp(terms - top[:, None])
    weight_sliver = np.exp(sliver - top)
    total = np.sum(weight, axis=1) + weight_sliver  # >= 1: the largest term is exp(0)
    d_b = -(np.einsum("ij,ij->i", weight, log_base) + weight_sliver * np.log1p(-z)) / total
    d_c = (weight @ _LOG_S + weight_sliver * (np.log(_EPS) - 1.0 / (c - 1.0))) / total
    d_z = b * (np.einsum("ij,ij->i", weight, ratio) + weight_sliver / (1.0 - z)) / total
    log_total = top + np.log(total)
    return np.log(c - 1.0) + log_total, d_b, d_c + 1.0 / (c - 1.0), d_z
