"""The run's purchase-model choice on a holdout, against the library's own pieces run
independently on simulated transactions: the split from aggregated arrays equals
calibration_holdout_split on the transactions, each candidate's error equals a direct fit's,
the lowest error wins, and the tracking curve from daily counts equals tracking_curve."""

from __future__ import annotations

import numpy as np
import pytest

from patron.analytics.clv import (
    MBGNBD,
    ConvergenceError,
    ParetoNBD,
    calibration_holdout_split,
    holdout_score,
    tracking_curve,
)
from patron.analytics.clv.simulate import simulate_paretonbd
from patron.analytics.purchase_models import (
    MAX_SHAPE,
    PredictionError,
    choose_purchase_model,
    fit_purchase_model,
    holdout_split,
    p_alive_grid,
)

DAYS = 546  # 78 weeks
HOLDOUT = 91


def _transactions(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Pareto/NBD customers, purchase by purchase: (customer id, day number) rows."""
    rng = np.random.default_rng(seed)
    ids, days = [], []
    for c in range(n):
        birth = int(rng.integers(0, 200))
        rate = rng.gamma(0.6, 1 / 8.0)  # purchases per day
        life = rng.exponential(1 / rng.gamma(0.5, 1 / 60.0))
        t, end = float(birth), min(birth + life, DAYS)
        ids.append(c)
        days.append(birth)
        while True:
            t += rng.exponential(1 / rate)
            if t > end:
                break
            ids.append(c)
            days.append(int(t))
    return np.array(ids), np.array(days, dtype=np.int64)


def test_choice_agrees_with_direct_fits_and_the_library_split() -> None:
    ids, days = _transactions(1_500, seed=3)
    dates = days.astype("datetime64[D]")
    end = np.datetime64(DAYS, "D")
    cal_end = end - np.timedelta64(HOLDOUT, "D")
    reference = calibration_holdout_split(
        ids, dates, calibration_end=cal_end, observation_end=end, unit="weeks"
    )

    # the split built from per-customer aggregates (as the engine gives them)
    cal_days, holdout_days, first, last = {}, {}, {}, {}
    for c, d in set(zip(ids.tolist(), days.tolist(), strict=True)):
        first[c] = min(first.get(c, d), d)
        if d <= int(cal_end.astype(np.int64)):
            cal_days[c] = cal_days.get(c, 0) + 1
            last[c] = max(last.get(c, d), d)
        else:
            holdout_days[c] = holdout_days.get(c, 0) + 1
    keys = sorted(cal_days)
    c_end = int(cal_end.astype(np.int64))
    split = holdout_split(
        [cal_days[c] - 1 for c in keys],
        [(last[c] - first[c]) / 7 for c in keys],
        [(c_end - first[c]) / 7 for c in keys],
        [holdout_days.get(c, 0) for c in keys],
        HOLDOUT / 7,
    )
    cal = reference.calibration
    np.testing.assert_array_equal(split.calibration.frequency, cal.frequency)
    np.testing.assert_allclose(split.calibration.recency, cal.recency)
    np.testing.assert_allclose(split.calibration.T, cal.T)
    np.testing.assert_array_equal(split.frequency_holdout, reference.frequency_holdout)

    # when the run chooses
    births, counts = np.unique([first[c] for c in first], return_counts=True)
    per_day: dict[int, int] = {}
    for c, d in set(zip(ids.tolist(), days.tolist(), strict=True)):
        if d != first[c]:
            per_day[d] = per_day.get(d, 0) + 1
    repeat_days = np.array(sorted(per_day))
    choice = choose_purchase_model(
        split,
        births=(births, counts),
        repeats=(repeat_days, np.array([per_day[d] for d in repeat_days])),
        start_day=int(births.min()),
        end_day=DAYS,
    )

    # then each candidate's error is a direct fit's, and the lowest error wins
    with np.errstate(all="ignore"):
        direct = {
            "mbgnbd": holdout_score(MBGNBD().fit(cal.frequency, cal.recency, cal.T), reference),
            "paretonbd": holdout_score(
                ParetoNBD().fit(cal.frequency, cal.recency, cal.T), reference
            ),
        }
    assert [s["model"] for s in choice.scores] == sorted(direct, key=lambda k: direct[k].rmse)
    for score in choice.scores:
        assert score["rmse"] == pytest.approx(direct[score["model"]].rmse, rel=1e-6)
        assert score["actual_total"] == direct[score["model"]].actual_total
    assert choice.chosen == choice.scores[0]["model"]
    # and the tracking curve from daily counts is tracking_curve's on the transactions
    best = (MBGNBD if choice.chosen == "mbgnbd" else ParetoNBD).from_params(**choice.params)
    curve = tracking_curve(
        best, ids, dates, start=np.datetime64(int(births.min()), "D"), end=end, unit="weeks"
    )
    assert choice.tracking["actual"] == curve.actual.tolist()
    np.testing.assert_allclose(choice.tracking["expected"], curve.expected, rtol=1e-9)


def test_p_alive_grid_bins_and_means() -> None:
    rng = np.random.default_rng(1)
    orders = rng.integers(1, 15, 500)
    recency = rng.integers(0, 800, 500)
    p = rng.random(500)

    grid = p_alive_grid(orders, recency, p)

    # against explicit bins written out here
    rows = [(1, 1), (2, 2), (3, 3), (4, 5), (6, 9), (10, 10**9)]
    columns = [(0, 30), (31, 60), (61, 90), (91, 180), (181, 365), (366, 10**9)]
    for i, (f_lo, f_hi) in enumerate(rows):
        for j, (r_lo, r_hi) in enumerate(columns):
            inside = (orders >= f_lo) & (orders <= f_hi) & (recency >= r_lo) & (recency <= r_hi)
            assert grid.count[i][j] == int(inside.sum())
            if inside.any():
                assert grid.mean[i][j] == pytest.approx(float(p[inside].mean()), rel=1e-12)
            else:
                assert grid.mean[i][j] is None


def test_a_candidate_whose_unpenalised_fit_raised_is_refitted_with_the_penalties_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # customers who never leave: every purchase model's drop-out runs off (0 or infinity)
    rng = np.random.default_rng(11)
    n = 400
    big_t = rng.uniform(30.0, 70.0, n)
    frequency = rng.poisson(0.4 * big_t)
    recency = np.where(frequency > 0, big_t * rng.beta(frequency + 1.0, 1.0), 0.0)
    split = holdout_split(frequency, recency, big_t, rng.poisson(0.4 * 13, n), 13.0)
    fitted: list[tuple[str, float]] = []
    for cls in (MBGNBD, ParetoNBD):
        original = cls.fit

        def counting(self, *args, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            fitted.append((type(self).__name__, self.penalizer_coef))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "fit", counting)
    with pytest.raises(PredictionError):  # no drop-out to estimate, at any penalty
        choose_purchase_model(split)
    # each candidate unpenalised once (a repeat could only raise again), then each penalty
    assert fitted == [
        ("MBGNBD", 0.0),
        ("ParetoNBD", 0.0),
        ("MBGNBD", 0.01),
        ("MBGNBD", 0.1),
        ("ParetoNBD", 0.01),
        ("ParetoNBD", 0.1),
    ]


def test_a_shape_at_max_shape_is_not_identified_and_a_penalty_fits() -> None:
    # homogeneous drop-out (gamma shape 10^6): only s / beta is identified
    t_ages = np.random.default_rng(4).uniform(20.0, 80.0, 3_000)
    x, tx, big_t = simulate_paretonbd(t_ages, r=0.8, alpha=4.0, s=1e6, beta=1e6 / 0.01, seed=4)
    with pytest.raises(ConvergenceError, match="at a bound"):
        ParetoNBD(max_shape=MAX_SHAPE).fit(x, tx, big_t)
    fitted = fit_purchase_model("paretonbd", x, tx, big_t, 13.0)
    assert fitted.penalizer > 0
    assert fitted.params["s"] < MAX_SHAPE
    assert np.isfinite(fitted.p_alive).all() and np.isfinite(fitted.expected).all()


@pytest.mark.parametrize("bad", [0.5, 1.0, float("inf"), "1e4"])
def test_max_shape_is_validated(bad: object) -> None:
    with pytest.raises(ValueError, match="max_shape"):
        ParetoNBD(max_shape=bad).fit([1.0], [1.0], [2.0])  # type: ignore[arg-type]
