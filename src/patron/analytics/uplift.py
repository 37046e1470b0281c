"""What a campaign changed: uplift against a control group, with intervals, CUPED and ROI.

Input is one row per targeted customer: the group (treatment or control), whether the
customer was actually reached, what they bought before the contact (pre-period) and in the
attribution window after it (outcome). Everything is a difference of two group means, so
the estimators are the textbook ones and can be checked against statsmodels.

Definitions
-----------
Intention to treat (ITT)
    Mean outcome of everyone assigned to treatment minus the mean of the controls, reached
    or not. Assignment is random, so this is unbiased for the effect of *assigning* the
    campaign. Means use Welch's unequal-variance standard error and a Welch-Satterthwaite
    t interval [1]_; a response *rate* is a difference of two proportions with the unpooled
    Wald standard error and a normal interval, as ``statsmodels``'
    ``confint_proportions_2indep(method="wald")``.
Effect per reached customer
    ITT divided by the share of the treatment group that was reached (controls are never
    reached): the complier average effect of Angrist, Imbens and Rubin [2]_. Its interval is
    the ITT interval divided by the reach (the reach is known far more precisely than the
    outcome difference, so its own sampling error is left out; said in ``note``).
CUPED
    Deng et al. [3]_: ``Y - theta (X - mean(X))`` with ``theta = cov(X, Y) / var(X)`` over
    both groups, X the pre-period spend. Same expectation difference, variance reduced by
    ``rho^2`` (the squared correlation of X and Y); ``variance_reduction`` reports the share
    observed.
Sample-ratio mismatch
    Chi-square goodness of fit of the two group sizes against the designed control share.
ROI
    ``(incremental margin - cost) / cost``; the interval maps the incremental margin's
    interval through the same formula (costs are known amounts).

References
----------
.. [1] B. L. Welch, "The generalization of Student's problem when several different
   population variances are involved", Biometrika 34 (1947), eq. (9)-(10).
.. [2] J. D. Angrist, G. W. Imbens, D. B. Rubin, "Identification of causal effects using
   instrumental variables", JASA 91 (1996), section 4.
.. [3] A. Deng, Y. Xu, R. Kohavi, T. Walker, "Improving the sensitivity of online controlled
   experiments by utilizing pre-experiment data", WSDM 2013, eq. (3)-(4).

Examples
--------
>>> import numpy as np
>>> treated = np.array([True, True, True, True, False, False, False, False])
>>> spend = np.array([30.0, 0.0, 50.0, 20.0, 0.0, 10.0, 0.0, 0.0])
>>> result = campaign_uplift(treated=treated, outcome_spend=spend)
>>> result.treatment.customers, result.control.customers
(4, 4)
>>> round(result.uplift["revenue_per_customer"].estimate, 2)
22.5
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

__all__ = [
    "CampaignCosts",
    "Estimate",
    "GroupOutcome",
    "UpliftResult",
    "campaign_uplift",
    "difference_of_means",
    "difference_of_proportions",
    "sample_ratio_p_value",
]

BAD_LENGTH = "{name} has {got} values; expected {want}, one per targeted customer"
BAD_VALUES = "{name} has missing or infinite values"
BAD_CONFIDENCE = "confidence must be between 0 and 1, got {value!r}"
BAD_SHARE = "control_share must be between 0 and 1, got {value!r}"
NO_GROUP = "both groups need customers: treatment has {treatment}, control has {control}"


@dataclass(frozen=True)
class Estimate:
    """A difference between treatment and control with its interval and two-sided p-value."""

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    std_error: float

    def scaled(self, factor: float) -> Estimate:
        """The same estimate times a known positive constant (totals, per-reached effects)."""
        return Estimate(
            self.estimate * factor,
            self.ci_low * factor,
            self.ci_high * factor,
            self.p_value,
            self.std_error * abs(factor),
        )

    @property
    def significant(self) -> bool:
        """Whether the interval excludes zero."""
        return self.ci_low > 0 or self.ci_high < 0


@dataclass(frozen=True)
class GroupOutcome:
    """One group's counts and per-customer means in the attribution window."""

    customers: int
    reached: int
    responders: int
    response_rate: float
    revenue_per_customer: float
    orders_per_customer: float
    margin_per_customer: float | None
    revenue: float
    orders: float
    margin: float | None


@dataclass(frozen=True)
class CampaignCosts:
    """What the campaign cost: per reached customer, per responding treated customer, fixed."""

    per_message: float = 0.0
    per_response: float = 0.0
    points_liability: float = 0.0
    fixed: float = 0.0


@dataclass(frozen=True)
class UpliftResult:
    treatment: GroupOutcome
    control: GroupOutcome
    uplift: dict[str, Estimate]
    per_reached: dict[str, Estimate]
    reach: float
    cuped: Estimate | None
    cuped_variance_reduction: float | None
    pre_post_correlation: float | None
    srm_p_value: float | None
    expected_control_share: float | None
    incremental: dict[str, Estimate]
    cost: float
    roi: Estimate | None
    confidence: float
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (NaN becomes None)."""
        ready: dict[str, Any] = _json_ready(asdict(self))
        return ready


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, float | np.floating):
        number = float(value)
        return None if math.isnan(number) or math.isinf(number) else number
    if isinstance(value, np.integer):
        return int(value)
    return value


def _array(values: ArrayLike, name: str, n: int | None) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64).ravel()
    if n is not None and array.size != n:
        raise ValueError(BAD_LENGTH.format(name=name, got=array.size, want=n))
    if not np.isfinite(array).all():
        raise ValueError(BAD_VALUES.format(name=name))
    return array


def _check_confidence(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(BAD_CONFIDENCE.format(value=confidence))
    return confidence


def difference_of_means(
    treatment: ArrayLike, control: ArrayLike, *, confidence: float = 0.95
) -> Estimate:
    """Welch's difference of means: t interval with Welch-Satterthwaite degrees of freedom."""
    _check_confidence(confidence)
    t = np.asarray(treatment, dtype=np.float64)
    c = np.asarray(control, dtype=np.float64)
    n_t, n_c = t.size, c.size
    if n_t < 2 or n_c < 2:
        return Estimate(float("nan"), float("nan"), float("nan"), float("nan"), float("nan"))
    diff = float(t.mean() - c.mean())
    v_t = float(t.var(ddof=1)) / n_t
    v_c = float(c.var(ddof=1)) / n_c
    se = math.sqrt(v_t + v_c)
    if se == 0.0:
        p = 1.0 if diff == 0 else 0.0
        return Estimate(diff, diff, diff, p, 0.0)
    dof = (v_t + v_c) ** 2 / (v_t**2 / (n_t - 1) + v_c**2 / (n_c - 1))
    q = float(special.stdtrit(dof, 0.5 + confidence / 2))
    p = float(2 * special.stdtr(dof, -abs(diff) / se))
    return Estimate(diff, diff - q * se, diff + q * se, p, se)


def difference_of_proportions(
    successes_t: int, n_t: int, successes_c: int, n_c: int, *, confidence: float = 0.95
) -> Estimate:
    """Wald difference of two independent proportions (unpooled standard error)."""
    _check_confidence(confidence)
    if n_t == 0 or n_c == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), float("nan"), float("nan"))
    p_t, p_c = successes_t / n_t, successes_c / n_c
    diff = p_t - p_c
    se = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    if se == 0.0:
        return Estimate(diff, diff, diff, 1.0 if diff == 0 else 0.0, 0.0)
    q = float(special.ndtri(0.5 + confidence / 2))
    p = float(2 * special.ndtr(-abs(diff) / se))
    return Estimate(diff, diff - q * se, diff + q * se, p, se)


def sample_ratio_p_value(control: int, treatment: int, *, control_share: float) -> float:
    """Chi-square test (1 degree of freedom) of the split against the designed share."""
    if not 0 < control_share < 1:
        raise ValueError(BAD_SHARE.format(value=control_share))
    total = control + treatment
    if total == 0:
        return float("nan")
    expected = np.array([control_share, 1 - control_share]) * total
    observed = np.array([control, treatment], dtype=np.float64)
    statistic = float(((observed - expected) ** 2 / expected).sum())
    return float(special.chdtrc(1, statistic))


def _group(
    mask: NDArray[np.bool_],
    reached: NDArray[np.float64],
    responded: NDArray[np.float64],
    spend: NDArray[np.float64],
    orders: NDArray[np.float64],
    margin: NDArray[np.float64] | None,
) -> GroupOutcome:
    n = int(mask.sum())

    def mean(values: NDArray[np.float64]) -> float:
        return float(values[mask].mean()) if n else float("nan")

    return GroupOutcome(
        customers=n,
        reached=int(reached[mask].sum()),
        responders=int(responded[mask].sum()),
        response_rate=mean(responded),
        revenue_per_customer=mean(spend),
        orders_per_customer=mean(orders),
        margin_per_customer=None if margin is None else mean(margin),
        revenue=float(spend[mask].sum()),
        orders=float(orders[mask].sum()),
        margin=None if margin is None else float(margin[mask].sum()),
    )


def campaign_uplift(
    *,
    treated: ArrayLike,
    outcome_spend: ArrayLike,
    outcome_orders: ArrayLike | None = None,
    outcome_margin: ArrayLike | None = None,
    responded: ArrayLike | None = None,
    reached: ArrayLike | None = None,
    pre_spend: ArrayLike | None = None,
    control_share: float | None = None,
    costs: CampaignCosts | None = None,
    confidence: float = 0.95,
) -> UpliftResult:
    """Evaluate a campaign from one row per targeted customer.

    Parameters
    ----------
    treated : bool array; True for the treatment group, False for controls.
    outcome_spend, outcome_orders, outcome_margin : what each customer bought in the
        attribution window (margin after cost to serve, when known).
    responded : bool array; default: bought at least once in the window (orders > 0, or
        spend > 0 without orders).
    reached : bool array; treated customers the message reached (default: all of them).
        Controls count as not reached whatever the array says.
    pre_spend : spend before the contact, for CUPED.
    control_share : the designed share of controls, for the sample-ratio check.
    costs : message, offer and points costs, for ROI.

    Raises
    ------
    ValueError
        Arrays of different lengths, missing values, an empty group, bad shares.
    """
    _check_confidence(confidence)
    group = np.asarray(treated).ravel().astype(bool)
    n = group.size
    spend = _array(outcome_spend, "outcome_spend", n)
    orders = (
        _array(outcome_orders, "outcome_orders", n)
        if outcome_orders is not None
        else (spend > 0).astype(np.float64)
    )
    margin = None if outcome_margin is None else _array(outcome_margin, "outcome_margin", n)
    if responded is None:
        response = ((orders > 0) | (spend > 0)).astype(np.float64)
    else:
        response = np.asarray(responded).ravel().astype(bool).astype(np.float64)
        if response.size != n:
            raise ValueError(BAD_LENGTH.format(name="responded", got=response.size, want=n))
    reach_flags = (
        group.astype(np.float64)
        if reached is None
        else (np.asarray(reached).ravel().astype(bool) & group).astype(np.float64)
    )
    if reach_flags.size != n:
        raise ValueError(BAD_LENGTH.format(name="reached", got=reach_flags.size, want=n))
    n_t, n_c = int(group.sum()), int((~group).sum())
    if n_t == 0 or n_c == 0:
        raise ValueError(NO_GROUP.format(treatment=n_t, control=n_c))

    treatment = _group(group, reach_flags, response, spend, orders, margin)
    control = _group(~group, reach_flags, response, spend, orders, margin)
    uplift = {
        "response_rate": difference_of_proportions(
            treatment.responders, n_t, control.responders, n_c, confidence=confidence
        ),
        "revenue_per_customer": difference_of_means(
            spend[group], spend[~group], confidence=confidence
        ),
        "orders_per_customer": difference_of_means(
            orders[group], orders[~group], confidence=confidence
        ),
    }
    if margin is not None:
        uplift["margin_per_customer"] = difference_of_means(
            margin[group], margin[~group], confidence=confidence
        )
    notes: list[str] = []
    reach = treatment.reached / n_t
    per_reached: dict[str, Estimate] = {}
    if reach > 0:
        per_reached = {k: v.scaled(1 / reach) for k, v in uplift.items()}
        if reach < 1:
            notes.append("per_reached: ITT / reach; the reach's own sampling error is left out")

    cuped = variance_reduction = rho = None
    if pre_spend is not None:
        pre = _array(pre_spend, "pre_spend", n)
        cuped, variance_reduction, rho = _cuped(spend, pre, group, confidence)

    srm = None
    if control_share is not None:
        srm = sample_ratio_p_value(n_c, n_t, control_share=control_share)

    incremental = {
        "responders": uplift["response_rate"].scaled(n_t),
        "revenue": uplift["revenue_per_customer"].scaled(n_t),
        "orders": uplift["orders_per_customer"].scaled(n_t),
    }
    if "margin_per_customer" in uplift:
        incremental["margin"] = uplift["margin_per_customer"].scaled(n_t)
    costs = costs or CampaignCosts()
    cost = (
        costs.per_message * treatment.reached
        + costs.per_response * treatment.responders
        + costs.points_liability
        + costs.fixed
    )
    roi = None
    gain = incremental.get("margin")
    if gain is not None and cost > 0:
        roi = Estimate(
            (gain.estimate - cost) / cost,
            (gain.ci_low - cost) / cost,
            (gain.ci_high - cost) / cost,
            gain.p_value,
            gain.std_error / cost,
        )
    elif cost > 0:
        notes.append("roi: needs a margin (a cost column or a margin rate)")
    return UpliftResult(
        treatment=treatment,
        control=control,
        uplift=uplift,
        per_reached=per_reached,
        reach=reach,
        cuped=cuped,
        cuped_variance_reduction=variance_reduction,
        pre_post_correlation=rho,
        srm_p_value=srm,
        expected_control_share=control_share,
        incremental=incremental,
        cost=cost,
        roi=roi,
        confidence=confidence,
        notes=notes,
    )


def _cuped(
    spend: NDArray[np.float64],
    pre: NDArray[np.float64],
    group: NDArray[np.bool_],
    confidence: float,
) -> tuple[Estimate, float, float] | tuple[None, None, None]:
    var_pre = float(pre.var(ddof=1)) if pre.size > 1 else 0.0
    if var_pre == 0.0:
        return None, None, None
    theta = float(np.cov(pre, spend, ddof=1)[0, 1]) / var_pre
    adjusted = spend - theta * (pre - pre.mean())
    estimate = difference_of_means(adjusted[group], adjusted[~group], confidence=confidence)
    var_spend = float(spend.var(ddof=1))
    reduction = 1 - float(adjusted.var(ddof=1)) / var_spend if var_spend > 0 else 0.0
    rho = float(np.corrcoef(pre, spend)[0, 1]) if var_spend > 0 else 0.0
    return estimate, reduction, rho
