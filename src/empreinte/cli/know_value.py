"""`empreinte rfm` and `empreinte clv`: RFM segments, and customer lifetime value (BG/NBD +
Gamma-Gamma) with the fit's diagnostics.

    empreinte rfm --at 2026-04-01 --by generation --csv rfm.csv --chart rfm.png
    empreinte clv --calibration-end 2026-03-31 --holdout-end 2026-06-30 --top 20 \\
        --csv clv.csv --chart holdout.png

See docs/value.md for the exact rules (tie rule of the scores, the segment grid, the models
and the CLV formula).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    ChartOption,
    CsvOption,
    JsonRowsOption,
    SinceOption,
    WorkspaceOption,
    check_lang,
    console,
    err,
    fail,
    moment,
    print_json,
    reading,
    report_table,
    save,
)

CurrencyOption = Annotated[
    str | None,
    typer.Option("--currency", help="Orders in this currency only (default: the most frequent)."),
]
LangOption = Annotated[str, typer.Option("--lang", help="Chart titles: en or fr.")]


def _money(value: float | None) -> str:
    return "–" if value is None else f"{value:,.2f}"


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None


def rfm(
    at: Annotated[
        str | None,
        typer.Option("--at", help="Reference date (default: the day after the latest order)."),
    ] = None,
    since: SinceOption = None,
    currency: CurrencyOption = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by", help="Breakdown: generation, country, preferred_channel, traits.<key>"
        ),
    ] = None,
    csv: CsvOption = None,
    chart: ChartOption = None,
    as_json: JsonRowsOption = False,
    lang: LangOption = "en",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """RFM: recency, frequency and monetary quintile scores and the named segments (champions,
    at risk, lost…), their sizes, shares and revenue."""
    from empreinte.analytics.cx.rendering import to_csv

    check_lang(lang)
    with reading(workspace) as ws:
        report = ws.know.rfm(
            at=moment(at, "--at"), since=moment(since, "--since"), currency=currency, by=by
        )
    rows = report.to_rows()
    if csv is not None:
        save(csv, to_csv(rows))
    if chart is not None:
        from empreinte.analytics.know.value_charts import rfm_grid_chart

        rfm_grid_chart(report, chart, language=lang)
        err.print(f"chart written to {chart}")
    if as_json:
        print_json({"reference": report.reference, "currency": report.currency, "rows": rows})
        return
    customers = len(report.customers)
    title = f"RFM at {report.reference:%Y-%m-%d} — {customers:,} customers ({report.currency})"
    caption = None
    if report.excluded_orders:
        others = ", ".join(report.excluded_currencies)
        caption = f"{report.excluded_orders:,} orders in other currencies ({others}) left out"
    table = report_table(title, caption)
    if by is None:
        for name in ("segment", "customers", "share", "revenue", "revenue share", "recency (d)"):
            table.add_column(name, justify="left" if name == "segment" else "right")
        for row in report.segments:
            table.add_row(
                row.segment,
                f"{row.customers:,}",
                f"{100 * row.share:.1f}%",
                _money(row.revenue),
                f"{100 * row.revenue_share:.1f}%",
                "–" if row.mean_recency is None else f"{row.mean_recency:.0f}",
            )
    else:
        for name in (by, "segment", "customers", "share of group", "revenue"):
            table.add_column(name, justify="right" if name not in (by, "segment") else "left")
        for b in report.breakdown:
            table.add_row(
                b.group, b.segment, f"{b.customers:,}", f"{100 * b.share:.1f}%", _money(b.revenue)
            )
    console.print(table)


def clv(
    calibration_end: Annotated[
        str | None,
        typer.Option(
            "--calibration-end", help="Last day of the calibration (default: latest order)."
        ),
    ] = None,
    holdout_end: Annotated[
        str | None,
        typer.Option("--holdout-end", help="Last day of a holdout period: check predictions."),
    ] = None,
    unit: Annotated[str, typer.Option("--unit", help="Time unit: week, day or month.")] = "week",
    since: SinceOption = None,
    currency: CurrencyOption = None,
    horizon: Annotated[int, typer.Option("--horizon", help="CLV horizon in months.")] = 12,
    discount: Annotated[
        float, typer.Option("--discount", help="Monthly discount rate, e.g. 0.01.")
    ] = 0.01,
    top: Annotated[int, typer.Option("--top", help="Show the N customers of highest CLV.")] = 10,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Write every customer's scores to CSV.")
    ] = None,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Holdout chart, actual vs predicted (.png/.svg)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the diagnostics as JSON.")] = False,
    lang: LangOption = "en",
    workspace: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Customer lifetime value: BG/NBD (how often) and Gamma-Gamma (how much) fitted on the
    purchases, with P(alive), expected purchases and CLV of each customer who allows
    profiling; with --holdout-end, predicted against actual purchases."""
    from empreinte.analytics.cx.rendering import to_csv

    check_lang(lang)
    if chart is not None and holdout_end is None:
        raise fail("--chart: the holdout chart needs --holdout-end")
    with reading(workspace) as ws:
        report = ws.know.clv(
            calibration_end=_day(calibration_end, "--calibration-end"),
            holdout_end=_day(holdout_end, "--holdout-end"),
            unit=unit,
            since=moment(since, "--since"),
            currency=currency,
            horizon_months=horizon,
            discount_rate=discount,
        )
    if csv is not None:
        save(csv, to_csv(report.to_rows()))
    if chart is not None:
        from empreinte.analytics.know.value_charts import holdout_chart

        holdout_chart(report, chart, language=lang)
        err.print(f"chart written to {chart}")
    diagnostics = report.diagnostics()
    if as_json:
        print_json({**diagnostics, "top": report.to_rows()[:top]})
        return
    _print_fit(diagnostics)
    if report.holdout:
        table = report_table("Holdout check: mean purchases per customer")
        for name in ("repeat purchases (calibration)", "customers", "actual", "predicted"):
            table.add_column(name, justify="right")
        for h in report.holdout:
            table.add_row(h.label, f"{h.customers:,}", f"{h.actual:.3f}", f"{h.predicted:.3f}")
        console.print(table)
    table = report_table(f"Top {top} customers by CLV ({report.currency})")
    for name in ("profile", "CLV", "P(alive)", "expected purchases", "x", "mean spend"):
        table.add_column(name, justify="left" if name == "profile" else "right")
    for row in report.to_rows()[:top]:
        table.add_row(
            str(row["profile_id"]),
            _money(row["clv"]),
            f"{row['p_alive']:.2f}",
            f"{row['expected_purchases']:.2f}",
            str(row["frequency"]),
            _money(row["expected_spend"]),
        )
    console.print(table)


def _print_fit(d: dict[str, Any]) -> None:
    b, g = d["bgnbd"], d["gamma_gamma"]
    table = report_table(
        f"Fit to {d['calibration_end']} ({d['customers']:,} customers, unit {d['unit']},"
        f" {d['currency']})",
        "Gamma-Gamma assumes spend independent of frequency: a correlation near 0 is expected."
        + (
            f" {d['excluded_orders']:,} orders in other currencies left out."
            if d["excluded_orders"]
            else ""
        ),
    )
    table.add_column("model")
    table.add_column("parameters")
    table.add_column("log-likelihood", justify="right")
    table.add_row(
        "BG/NBD",
        f"r={b['r']:.4g} α={b['alpha']:.4g} a={b['a']:.4g} b={b['b']:.4g}",
        f"{b['log_likelihood']:,.1f}",
    )
    table.add_row(
        "Gamma-Gamma",
        f"p={g['p']:.4g} q={g['q']:.4g} γ={g['gamma']:.4g}"
        f" ({d['repeat_customers']:,} repeat customers;"
        f" spend/frequency correlation {g['spend_frequency_correlation']:.2f})",
        f"{g['log_likelihood']:,.1f}",
    )
    console.print(table)
    console.print(
        f"CLV over {d['horizon_months']} months at {100 * d['discount_rate']:.2f}%/month:"
        f" total {d['total_clv']:,.2f}"
    )
