"""The CDNOW data of the BG/NBD and Gamma-Gamma papers, as the `lifetimes` package ships it:
`CDNOW_sample.txt` (the raw transactions of the 2,357 customers of the 1/10th sample: master
id, sample id, date YYYYMMDD, CDs, dollars) and the papers' own summary of it
(`cdnow_customers_summary_with_transactions.csv`: x, t_x, T in weeks, zbar in dollars, to two
decimals). Read from the installed files, without importing lifetimes."""

from __future__ import annotations

import importlib.metadata
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

CALIBRATION_END = date(1997, 9, 30)  # 39 weeks from 1997-01-01
HOLDOUT_END = date(1998, 6, 30)  # the next 39 weeks


def dataset(name: str) -> Path:
    for file in importlib.metadata.files("lifetimes") or ():
        if file.name == name and "datasets" in file.parts:
            return Path(str(file.locate()))
    raise FileNotFoundError(f"lifetimes does not ship {name}")


@cache
def transactions() -> pd.DataFrame:
    """One row per transaction: `customer` (the sample id), `day` (a date), `value`."""
    raw = pd.read_csv(
        dataset("CDNOW_sample.txt"),
        sep=r"\s+",
        header=None,
        names=["master", "customer", "day", "cds", "value"],
        dtype={"master": str, "customer": int, "day": str, "cds": int, "value": float},
    )
    raw["day"] = [date(int(d[:4]), int(d[4:6]), int(d[6:])) for d in raw["day"]]
    return raw.loc[:, ["customer", "day", "value"]]


@cache
def paper_summary() -> pd.DataFrame:
    """The papers' summary, indexed by customer: x, t_x, T, zbar."""
    return pd.read_csv(dataset("cdnow_customers_summary_with_transactions.csv")).set_index("ID")


def messages() -> list[dict[str, Any]]:
    """The transactions as Segment `Order Completed` calls (at noon UTC on their day), each
    customer granting analytics and profiling first."""
    out: list[dict[str, Any]] = []
    granted = datetime(1996, 12, 1, tzinfo=UTC).isoformat()
    frame = transactions()
    for customer in sorted(set(frame["customer"])):
        for purpose in ("analytics", "profiling"):
            out.append(
                {
                    "type": "track",
                    "event": "Consent Updated",
                    "userId": f"cd{customer}",
                    "properties": {"purpose": purpose, "granted": True, "wording_version": "v1"},
                    "timestamp": granted,
                }
            )
    for i, row in enumerate(frame.itertuples()):
        at = datetime(row.day.year, row.day.month, row.day.day, 12, tzinfo=UTC)
        out.append(
            {
                "type": "track",
                "event": "Order Completed",
                "userId": f"cd{row.customer}",
                "messageId": f"cdnow-{i}",
                "properties": {"order_id": f"o{i}", "revenue": row.value, "currency": "USD"},
                "timestamp": at.isoformat(),
                "context": {"channel": "web"},
            }
        )
    return out
