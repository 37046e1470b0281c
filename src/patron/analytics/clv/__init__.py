"""Customer lifetime value: repeat-purchase and spend models, pure NumPy/SciPy.

Models (lifetimes-compatible API and parameter names):

* :class:`BGNBD` (r, alpha, a, b) — Fader, Hardie & Lee (2005);
* :class:`MBGNBD` (r, alpha, a, b) — Batislam, Denizel & Filiztekin (2007);
* :class:`ParetoNBD` (r, alpha, s, beta) — Schmittlein et al. (1987), Fader & Hardie (2005);
* :class:`BGBB` (alpha, beta, gamma, delta) — Fader, Hardie & Shang (2010), discrete time;
* :class:`GammaGamma` (p, q, v) — spend per transaction, and :meth:`GammaGamma.clv`.

Input preparation lives in :mod:`~patron.analytics.clv.data`, holdout evaluation and model
choice in :mod:`~patron.analytics.clv.evaluation`, samplers in
:mod:`~patron.analytics.clv.simulate`. No Django import anywhere in this package.
"""

from ._compress import compress_rows
from .base import ConvergenceError, NotFittedError
from .bgbb import BGBB
from .bgnbd import BGNBD
from .data import (
    CalibrationHoldout,
    CustomerSummary,
    calibration_holdout_split,
    summarize_transactions,
)
from .evaluation import (
    HoldoutByFrequency,
    HoldoutScore,
    ModelChoice,
    NoModelFittedError,
    TrackingCurve,
    holdout_by_frequency,
    holdout_score,
    select_model,
    tracking_curve,
)
from .gammagamma import GammaGamma
from .mbgnbd import MBGNBD
from .paretonbd import ParetoNBD

__all__ = [
    "BGBB",
    "BGNBD",
    "MBGNBD",
    "CalibrationHoldout",
    "ConvergenceError",
    "CustomerSummary",
    "GammaGamma",
    "HoldoutByFrequency",
    "HoldoutScore",
    "ModelChoice",
    "NoModelFittedError",
    "NotFittedError",
    "ParetoNBD",
    "TrackingCurve",
    "calibration_holdout_split",
    "compress_rows",
    "holdout_by_frequency",
    "holdout_score",
    "select_model",
    "summarize_transactions",
    "tracking_curve",
]
