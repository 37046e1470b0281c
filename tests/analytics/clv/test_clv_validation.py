"""Input validation (before any cast) and the not-fitted guard, for every model."""

from __future__ import annotations

import numpy as np
import pytest

from patron.analytics.clv import BGBB, BGNBD, MBGNBD, GammaGamma, NotFittedError, ParetoNBD

COUNT_MODELS = [BGNBD, MBGNBD, ParetoNBD]
GOOD = {"frequency": [0.0, 2.0, 1.0], "recency": [0.0, 5.0, 3.0], "T": [10.0, 10.0, 8.0]}


@pytest.mark.parametrize("model", COUNT_MODELS)
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"frequency": [0.0, 2.5, 1.0]}, "frequency must hold whole numbers"),
        ({"frequency": [0.0, np.nan, 1.0]}, "frequency contains NaN"),
        ({"frequency": [0.0, -1.0, 1.0]}, "frequency must be >= 0"),
        ({"frequency": ["0", "2", "1"]}, "frequency must be numeric"),
        ({"frequency": [False, True, True]}, "frequency must be numeric"),
        ({"recency": [0.0, np.inf, 3.0]}, "recency contains NaN or infinite"),
        ({"recency": [0.0, -5.0, 3.0]}, "recency must be >= 0"),
        ({"recency": [0.0, 11.0, 3.0]}, "recency must be <= T"),
        ({"recency": [1.0, 5.0, 3.0]}, "recency must be 0 where frequency is 0"),
        ({"T": [10.0, np.nan, 8.0]}, "T contains NaN"),
        ({"T": [10.0, 10.0]}, "must have the same shape"),
        ({"frequency": []}, "same shape"),
        ({"weights": [1.0, -1.0, 1.0]}, "weights must be >= 0"),
        ({"weights": [1.0, 1.0]}, "weights must have shape"),
        ({"weights": [0.0, 0.0, 0.0]}, "weights must not all be zero"),
        ({"weights": [1.0, np.nan, 1.0]}, "weights contains NaN"),
    ],
)
def test_fit_rejects_bad_inputs(model, change, message) -> None:
    kwargs = GOOD | change
    with pytest.raises(ValueError, match=message):
        model().fit(
            kwargs["frequency"], kwargs["recency"], kwargs["T"], weights=kwargs.get("weights")
        )


@pytest.mark.parametrize("model", [*COUNT_MODELS, BGBB, GammaGamma])
@pytest.mark.parametrize(
    ("hyper", "message"),
    [
        ({"penalizer_coef": -1.0}, "penalizer_coef"),
        ({"penalizer_coef": np.nan}, "penalizer_coef"),
        ({"tol": 0.0}, "tol"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_iter": 2.5}, "max_iter"),
        ({"initial_params": {"r": 1.0}}, "params must have exactly the keys"),
    ],
)
def test_fit_rejects_bad_hyperparameters(model, hyper, message) -> None:
    with pytest.raises(ValueError, match=message):
        if model is GammaGamma:
            model(**hyper).fit([1.0, 2.0], [3.0, 4.0])
        elif model is BGBB:
            model(**hyper).fit([0.0, 1.0], [0.0, 2.0], [3.0, 3.0])
        else:
            model(**hyper).fit(GOOD["frequency"], GOOD["recency"], GOOD["T"])


@pytest.mark.parametrize("model", COUNT_MODELS)
def test_predictions_reject_bad_inputs(model) -> None:
    names = model._param_names
    m = model.from_params(**dict(zip(names, [0.5, 2.0, 0.8, 2.0], strict=True)))
    with pytest.raises(ValueError, match="t must be >= 0"):
        m.expected_purchases(-1.0, 1.0, 2.0, 3.0)
    with pytest.raises(ValueError, match="t contains NaN"):
        m.expected_purchases_new([1.0, np.nan])
    with pytest.raises(ValueError, match="recency must be <= T"):
        m.p_alive(1.0, 4.0, 3.0)
    with pytest.raises(ValueError, match="incompatible shapes"):
        m.p_alive([1.0, 2.0], [1.0, 2.0, 3.0], 5.0)
    with pytest.raises(ValueError, match="n must hold whole numbers"):
        m.p_purchases(1.5, 2.0)
    with pytest.raises(ValueError, match="frequency must hold whole numbers"):
        m.loglik(1.5, 1.0, 2.0)


def test_from_params_checks_names_and_values() -> None:
    with pytest.raises(ValueError, match="exactly the keys"):
        BGNBD.from_params(r=1.0, alpha=1.0, a=1.0)
    with pytest.raises(ValueError, match="parameter b must be finite and > 0"):
        BGNBD.from_params(r=1.0, alpha=1.0, a=1.0, b=-1.0)
    with pytest.raises(ValueError, match="parameter s must be finite and > 0"):
        ParetoNBD.from_params(r=1.0, alpha=1.0, s=np.nan, beta=1.0)


def test_bgbb_rejects_bad_inputs() -> None:
    fit = BGBB().fit
    with pytest.raises(ValueError, match="frequency must be <= recency"):
        fit([3.0], [2.0], [6.0])
    with pytest.raises(ValueError, match="recency must be <= n_periods"):
        fit([1.0], [7.0], [6.0])
    with pytest.raises(ValueError, match="n_periods must hold whole numbers"):
        fit([1.0], [2.0], [6.5])
    with pytest.raises(ValueError, match="recency must be 0 where frequency is 0"):
        fit([0.0], [2.0], [6.0])
    with pytest.raises(ValueError, match="weights must be >= 0"):
        fit([1.0], [2.0], [6.0], weights=[-2.0])
    m = BGBB.from_params(alpha=1.0, beta=1.0, gamma=1.0, delta=1.0)
    with pytest.raises(ValueError, match="t must hold whole numbers"):
        m.expected_purchases(1.5, 1, 2, 6)
    with pytest.raises(ValueError, match="m_periods_in_future must be >= 0"):
        m.p_alive(1, 2, 6, m_periods_in_future=-1)


def test_gammagamma_rejects_bad_inputs() -> None:
    fit = GammaGamma().fit
    with pytest.raises(ValueError, match="frequency must be >= 1"):
        fit([0.0, 2.0], [3.0, 4.0])
    with pytest.raises(ValueError, match="monetary_value must be > 0"):
        fit([1.0, 2.0], [0.0, 4.0])
    with pytest.raises(ValueError, match="monetary_value contains NaN"):
        fit([1.0, 2.0], [np.nan, 4.0])
    with pytest.raises(ValueError, match="same shape"):
        fit([1.0, 2.0], [4.0])
    m = GammaGamma.from_params(p=6.0, q=3.7, v=15.0)
    with pytest.raises(ValueError, match="monetary_value must be > 0 where frequency > 0"):
        m.expected_spend([2.0], [0.0])
    with pytest.raises(ValueError, match="months must be an integer"):
        m.clv(BGNBD.from_params(r=1.0, alpha=1.0, a=1.0, b=1.0), 1, 1, 2, 5.0, months=-1)
    with pytest.raises(ValueError, match="time_unit"):
        m.clv(BGNBD.from_params(r=1.0, alpha=1.0, a=1.0, b=1.0), 1, 1, 2, 5.0, time_unit="years")


PREDICT_CALLS = {
    BGNBD: ["p_alive", "expected_purchases", "expected_purchases_new", "p_purchases", "loglik"],
    MBGNBD: ["p_alive", "expected_purchases", "expected_purchases_new", "p_purchases", "loglik"],
    ParetoNBD: ["p_alive", "expected_purchases", "expected_purchases_new", "p_purchases", "loglik"],
    BGBB: ["p_alive", "expected_purchases", "expected_purchases_new", "p_purchases", "loglik"],
    GammaGamma: ["expected_spend", "loglik"],
}
ARGS = {
    "p_alive": (1, 2, 3),
    "expected_purchases": (1, 1, 2, 3),
    "expected_purchases_new": (1,),
    "p_purchases": (1, 2),
    "loglik": (1, 2, 3),
    "expected_spend": (1, 2.0),
}


@pytest.mark.parametrize(
    ("model", "method"), [(m, name) for m, names in PREDICT_CALLS.items() for name in names]
)
def test_predict_methods_raise_not_fitted(model, method) -> None:
    args = ARGS[method] if not (model is GammaGamma and method == "loglik") else (1, 2.0)
    with pytest.raises(NotFittedError, match="not fitted"):
        getattr(model(), method)(*args)


def test_not_fitted_error_is_a_value_error_and_clv_needs_fitted_models() -> None:
    assert issubclass(NotFittedError, ValueError)
    gg = GammaGamma.from_params(p=6.0, q=3.7, v=15.0)
    with pytest.raises(NotFittedError):
        gg.clv(BGNBD(), 1, 1, 2, 5.0)
