"""Churn risk: the probability that a customer places no order in the next N days.

The evaluation is in time, never shuffled (docs/predictions.md):

- train: the features of every customer at c1 = now − 2N (analytics/know/churn_features.py,
  events strictly before c1), labelled churned when they placed no order in [c1, c1 + N);
- test: the features at c2 = now − N, labelled by [c2, now).

No row sees its own future: the features stop at the cutoff, the label starts there. The model
(median imputation with missing-value indicators, standardised features, an L2 logistic
regression whose penalty is chosen by cross-validation on the training rows; deterministic) is
compared with a baseline that knows only the days since the last order. Reported: AUC, Brier
score, base rates, a calibration table by decile of the predicted risk. Then the model is
fitted again on the test period and scores every customer at `now`: fitted on one period,
applied to the next, as evaluated.

Only people who allow `analytics` and `profiling` are read, trained on or scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from empreinte.analytics.know.churn_features import FEATURES, buyers, churn_features
from empreinte.analytics.log import AnalyticsLog
from empreinte.errors import AnalyticsError

DEFAULT_HORIZON = timedelta(days=90)
#: Below this many customers in a period, or this many of the rarer class, no honest AUC.
MIN_PEOPLE = 30
MIN_CLASS = 5
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class CalibrationBin:
    """One decile of predicted risk on the test period: mean predicted, share observed."""

    predicted: float
    observed: float
    people: int


@dataclass(frozen=True)
class ChurnScore:
    profile_id: str
    churn_risk: float


@dataclass(frozen=True)
class ChurnReport:
    """The evaluation of the churn model and everyone's risk at `now`."""

    horizon_days: float
    now: datetime
    train_cutoff: datetime
    test_cutoff: datetime
    n_train: int
    n_test: int
    base_rate_train: float  # share of train customers who churned
    base_rate: float  # share of test customers who churned
    auc: float
    brier: float
    baseline_auc: float  # recency only
    baseline_brier: float
    calibration: tuple[CalibrationBin, ...]
    scores: tuple[ChurnScore, ...]  # everyone at `now`, highest risk first
    features: tuple[str, ...]

    def summary(self) -> dict[str, Any]:
        return {
            "horizon_days": self.horizon_days,
            "now": self.now.isoformat(),
            "train_cutoff": self.train_cutoff.isoformat(),
            "test_cutoff": self.test_cutoff.isoformat(),
            "n_train": self.n_train,
            "n_test": self.n_test,
            "base_rate_train": self.base_rate_train,
            "base_rate": self.base_rate,
            "auc": self.auc,
            "brier": self.brier,
            "baseline_auc": self.baseline_auc,
            "baseline_brier": self.baseline_brier,
            "scored": len(self.scores),
        }

    def calibration_rows(self) -> list[dict[str, Any]]:
        return [
            {"bin": i + 1, "predicted": b.predicted, "observed": b.observed, "people": b.people}
            for i, b in enumerate(self.calibration)
        ]

    def to_rows(self) -> list[dict[str, Any]]:
        """Everyone's risk at `now`, highest first."""
        return [{"profile_id": s.profile_id, "churn_risk": s.churn_risk} for s in self.scores]

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_rows(), columns=["profile_id", "churn_risk"])


def latest_event(log: AnalyticsLog) -> datetime:
    """The time of the latest event, just after it (cutoffs are exclusive)."""
    events = log.events()
    latest = log.execute(events.timestamp.max())
    if latest is None or pd.isna(latest):
        raise AnalyticsError("churn: the log is empty")
    moment: datetime = pd.Timestamp(latest).to_pydatetime()
    return moment + timedelta(microseconds=1)


def labelled(log: AnalyticsLog, cutoff: datetime, horizon: timedelta) -> pd.DataFrame:
    """The features at `cutoff` and `churned` (1: no order in [cutoff, cutoff + horizon))."""
    features = log.execute(churn_features(log, cutoff))
    bought = set(log.execute(buyers(log, cutoff, cutoff + horizon))["profile_id"])
    features["churned"] = (~features["profile_id"].isin(bought)).astype(int)
    return features.sort_values("profile_id", ignore_index=True)


def _model() -> Any:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipeline = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(solver="newton-cholesky", max_iter=1000),
    )
    # The strength of the penalty chosen on the training rows only (5 folds, log loss): a few
    # hundred customers and twenty features overfit without it.
    return GridSearchCV(
        pipeline,
        {"logisticregression__C": list(np.logspace(-4, 2, 7))},
        cv=5,
        scoring="neg_log_loss",
    )


def _fitted(frame: pd.DataFrame, columns: Sequence[str]) -> Any:
    """The model fitted on `frame`'s rows in an order that depends on their values only:
    the cross-validation folds follow the row order, and profile ids are random, so the same
    customers must give the same folds (the same penalty, the same scores) in every
    workspace."""
    matrix = _matrix(frame, columns)
    labels = frame["churned"].to_numpy()
    order = np.lexsort((labels, *matrix.T[::-1]))
    return _model().fit(matrix[order], labels[order])


def _matrix(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    matrix: np.ndarray = frame[list(columns)].astype("float64").to_numpy()
    return matrix


def _check(frame: pd.DataFrame, what: str, cutoff: datetime) -> None:
    n = len(frame)
    churned = int(frame["churned"].sum()) if n else 0
    if n < MIN_PEOPLE:
        raise AnalyticsError(
            f"churn: too little history: {n} customers (allowing analytics and profiling) had"
            f" ordered before the {what} cutoff {cutoff.date()}; at least {MIN_PEOPLE} are"
            " needed (a shorter horizon moves the cutoffs later)"
        )
    if min(churned, n - churned) < MIN_CLASS:
        kind = "churned" if churned < MIN_CLASS else "ordered again"
        raise AnalyticsError(
            f"churn: only {min(churned, n - churned)} of the {n} customers of the {what}"
            f" period {kind} (one class only, or nearly): at least {MIN_CLASS} of each are"
            " needed to fit and evaluate a model"
        )


def churn_report(
    log: AnalyticsLog,
    horizon: timedelta = DEFAULT_HORIZON,
    *,
    now: datetime | None = None,
) -> ChurnReport:
    """Evaluate the churn model in time and score every customer at `now` (default: just
    after the latest event)."""
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss, roc_auc_score

    if horizon <= timedelta(0):
        raise AnalyticsError(f"churn: the horizon must be positive, not {horizon}")
    if now is not None and now.tzinfo is None:
        raise AnalyticsError(f"churn: now={now.isoformat()} has no time zone")
    now = now or latest_event(log)
    test_cutoff = now - horizon
    train_cutoff = now - 2 * horizon
    train = labelled(log, train_cutoff, horizon)
    _check(train, "training", train_cutoff)
    test = labelled(log, test_cutoff, horizon)
    _check(test, "test", test_cutoff)

    model = _fitted(train, FEATURES)
    predicted = model.predict_proba(_matrix(test, FEATURES))[:, 1]
    baseline = _fitted(train, ["recency_days"])
    predicted_baseline = baseline.predict_proba(_matrix(test, ["recency_days"]))[:, 1]
    observed = test["churned"].to_numpy()

    bins = _calibration(observed, predicted, calibration_curve)
    # Scores at `now`: the same model fitted on the latest period (features at c2, labels up
    # to now), applied one horizon later: exactly what the evaluation measured.
    final = _fitted(test, FEATURES)
    current = log.execute(churn_features(log, now)).sort_values("profile_id", ignore_index=True)
    risks = final.predict_proba(_matrix(current, FEATURES))[:, 1] if len(current) else []
    scores = sorted(
        (ChurnScore(str(p), float(r)) for p, r in zip(current["profile_id"], risks, strict=True)),
        key=lambda s: (-s.churn_risk, s.profile_id),
    )
    return ChurnReport(
        horizon_days=horizon / timedelta(days=1),
        now=now,
        train_cutoff=train_cutoff,
        test_cutoff=test_cutoff,
        n_train=len(train),
        n_test=len(test),
        base_rate_train=float(train["churned"].mean()),
        base_rate=float(observed.mean()),
        auc=float(roc_auc_score(observed, predicted)),
        brier=float(brier_score_loss(observed, predicted)),
        baseline_auc=float(roc_auc_score(observed, predicted_baseline)),
        baseline_brier=float(brier_score_loss(observed, predicted_baseline)),
        calibration=bins,
        scores=tuple(scores),
        features=FEATURES,
    )


def _calibration(
    observed: np.ndarray, predicted: np.ndarray, curve: Any
) -> tuple[CalibrationBin, ...]:
    """Deciles of the predicted risk (fewer when predictions tie): sklearn's
    `calibration_curve` with the quantile strategy, and the people in each bin (counted with
    the same edges and rule as sklearn's)."""
    share, mean = curve(observed, predicted, n_bins=CALIBRATION_BINS, strategy="quantile")
    edges = np.percentile(predicted, np.linspace(0, 100, CALIBRATION_BINS + 1))
    which = np.searchsorted(edges[1:-1], predicted)
    people = np.bincount(which, minlength=CALIBRATION_BINS)
    people = people[people > 0]
    return tuple(
        CalibrationBin(float(m), float(s), int(n))
        for m, s, n in zip(mean, share, people, strict=True)
    )
