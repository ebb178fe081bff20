"""`empreinte predict`, `churn`, `generations`, `icp`: predictions and who the customers are.

    empreinte predict                          # every scorer; --only churn_risk
    empreinte churn --horizon 90d --top 20 --csv risks.csv --chart calibration.png
    empreinte generations --lang fr --csv generations.csv
    empreinte icp --industry technology --employees 10-200 --country FR

See docs/predictions.md for the features, the evaluation and the rules.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from empreinte.cli.common import (
    DEFAULT_WORKSPACE,
    ChartOption,
    CsvOption,
    JsonRowsOption,
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
    workspace,
)

LangOption = Annotated[str, typer.Option("--lang", help="Titles and headers: en or fr.")]

_WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "generation": "génération",
        "born": "nés",
        "people": "personnes",
        "share": "part",
        "ages": "âges",
        "customers": "clients",
        "revenue": "chiffre d'affaires",
        "nps": "NPS",
        "Customers by generation": "Clients par génération",
        "ages in": "âges atteints en",
        "account": "compte",
        "name": "nom",
        "industry": "secteur",
        "employees": "salariés",
        "country": "pays",
        "fit": "adéquation",
        "members": "membres",
        "orders": "commandes",
        "reasons": "raisons",
        "Accounts by fit to the ideal customer profile": "Comptes par adéquation au profil idéal",
    }
}


def _t(text: str, lang: str) -> str:
    return _WORDS.get(lang, {}).get(text, text)


def _num(value: Any, spec: str = ",.2f") -> str:
    if value is None or value != value:  # None or NaN
        return "–"
    return format(value, spec)


def predict(
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Run only this scorer (repeat): churn_risk…"),
    ] = None,
    json: JsonRowsOption = False,
    workspace_path: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Run the model scorers and store their computed traits (churn risk…) per person;
    people who do not allow profiling get none, and lose those they had."""
    with workspace(workspace_path) as ws:
        run = ws.predict(only)
    if json:
        print_json(run.to_json())
    else:
        table = report_table(f"Computed traits at {run.computed_at:%Y-%m-%d %H:%M} UTC")
        for name in ("scorer", "trait", "people", "error"):
            table.add_column(name, justify="right" if name == "people" else "left")
        for row in run.to_rows():
            table.add_row(
                row["scorer"], row["trait"] or "–", f"{row['people']:,}", row["error"] or ""
            )
        console.print(table)
        if run.withdrawn:
            err.print(f"{run.withdrawn} rows removed: people who do not allow profiling")
    if not run.ok:
        raise typer.Exit(code=1)


def churn(
    horizon: Annotated[str, typer.Option(help="No order within: 90d, 60d, 8w…")] = "90d",
    now: Annotated[
        str | None, typer.Option(help="Score at this date (default: after the last event).")
    ] = None,
    top: Annotated[int, typer.Option(help="Show the N highest risks.", min=0)] = 20,
    csv: CsvOption = None,
    chart: ChartOption = None,
    lang: LangOption = "en",
    json: JsonRowsOption = False,
    workspace_path: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """Churn risk: the model's evaluation in time (AUC, Brier, calibration, against a
    recency-only baseline) and the customers most at risk. --csv writes everyone's risk."""
    from empreinte.analytics.cx.rendering import to_csv

    check_lang(lang)
    with reading(workspace_path) as ws:
        report = ws.know.churn(horizon, now=moment(now, "--now"))
    if csv is not None:
        rows = report.to_rows()
        save(csv, to_csv(rows) if rows else "profile_id,churn_risk\r\n")
    if chart is not None:
        from empreinte.analytics.know.churn_chart import calibration_chart

        calibration_chart(report, chart, language=lang)
        err.print(f"chart written to {chart}")
    if json:
        print_json(
            {
                **report.summary(),
                "calibration": report.calibration_rows(),
                "top": report.to_rows()[:top],
            }
        )
        return
    days = f"{report.horizon_days:g}"
    metrics = report_table(
        f"Churn: no order within {days} days",
        f"train: features at {report.train_cutoff:%Y-%m-%d}, labels to"
        f" {report.test_cutoff:%Y-%m-%d}; test: features at {report.test_cutoff:%Y-%m-%d},"
        f" labels to {report.now:%Y-%m-%d}",
    )
    for name in ("figure", "model", "recency only"):
        metrics.add_column(name, justify="left" if name == "figure" else "right")
    metrics.add_row("AUC (test)", f"{report.auc:.3f}", f"{report.baseline_auc:.3f}")
    metrics.add_row("Brier score (test)", f"{report.brier:.4f}", f"{report.baseline_brier:.4f}")
    metrics.add_row(
        "base rate train / test", f"{report.base_rate_train:.1%}", f"{report.base_rate:.1%}"
    )
    metrics.add_row("customers train / test", f"{report.n_train:,}", f"{report.n_test:,}")
    console.print(metrics)
    calibration = report_table("Calibration by decile of predicted risk (test)")
    for name in ("decile", "predicted", "observed", "customers"):
        calibration.add_column(name, justify="right")
    for row in report.calibration_rows():
        calibration.add_row(
            str(row["bin"]), f"{row['predicted']:.1%}", f"{row['observed']:.1%}", str(row["people"])
        )
    console.print(calibration)
    risks = report_table(f"Highest risks of {len(report.scores):,} customers")
    risks.add_column("profile")
    risks.add_column("churn risk", justify="right")
    for score in report.scores[:top]:
        risks.add_row(score.profile_id, f"{score.churn_risk:.1%}")
    console.print(risks)


def generations(
    csv: CsvOption = None,
    lang: LangOption = "en",
    json: JsonRowsOption = False,
    workspace_path: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """The customer base by generation: people, share, ages, customers, revenue, NPS."""
    from empreinte.analytics.cx.rendering import to_csv

    check_lang(lang)
    with reading(workspace_path) as ws:
        report = ws.know.generations()
    rows = report.to_rows()
    if csv is not None:
        save(csv, to_csv(rows))
    if json:
        print_json(rows)
        return
    table = report_table(
        _t("Customers by generation", lang), f"{_t('ages in', lang)} {report.year}"
    )
    columns = ["generation", "born", "people", "share", "ages", "customers", "revenue", "nps"]
    for name in columns:
        table.add_column(_t(name, lang), justify="left" if name == "generation" else "right")
    for row in report.rows:
        born = (
            "–"
            if row.born_from is None
            else f"{row.born_from}–{row.born_until if row.born_until is not None else ''}"
        )
        ages = "–" if row.youngest is None else f"{row.youngest}–{row.oldest}"
        table.add_row(
            row.generation,
            born,
            f"{row.people:,}",
            "–" if row.share is None else f"{row.share:.1%}",
            ages,
            f"{row.customers:,}",
            _num(row.revenue),
            _num(row.nps, "+.1f"),
        )
    console.print(table)


def _employees(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    low, _, high = text.partition("-")
    try:
        return int(low), int(high)
    except ValueError:
        raise fail(f"--employees: write a range such as 10-200, not {text!r}") from None


def icp(
    industry: Annotated[
        list[str] | None, typer.Option("--industry", help="An ideal industry (repeat).")
    ] = None,
    employees: Annotated[
        str | None, typer.Option("--employees", help="Ideal head count, e.g. 10-200.")
    ] = None,
    country: Annotated[
        list[str] | None, typer.Option("--country", help="An ideal country (repeat).")
    ] = None,
    top: Annotated[int, typer.Option(help="Show the N best accounts.", min=1)] = 50,
    csv: CsvOption = None,
    lang: LangOption = "en",
    json: JsonRowsOption = False,
    workspace_path: WorkspaceOption = DEFAULT_WORKSPACE,
) -> None:
    """B2B accounts by fit (0–100) to the ideal customer profile ([icp] in empreinte.toml, or
    the options), with the reasons per criterion and their orders and revenue."""
    from empreinte.analytics.cx.rendering import to_csv

    check_lang(lang)
    span = _employees(employees)
    with reading(workspace_path) as ws:
        report = ws.know.icp(industries=industry or (), employees=span, countries=country or ())
    rows = report.to_rows()
    if csv is not None:
        save(csv, to_csv(rows) if rows else "group_id,fit\r\n")
    if json:
        print_json(rows[:top])
        return
    table = report_table(
        _t("Accounts by fit to the ideal customer profile", lang),
        "reasons per criterion: --csv or --json",
    )
    columns = ["account", "industry", "employees", "country", "fit", "members", "orders"]
    columns += ["revenue"]
    for name in columns:
        left = name in ("account", "industry", "country")
        table.add_column(_t(name, lang), justify="left" if left else "right")
    for a in report.accounts[:top]:
        table.add_row(
            a.name or a.group_id,
            a.industry or "–",
            "–" if a.employees is None else f"{a.employees:,}",
            a.country or "–",
            f"{a.fit:.0f}",
            f"{a.members:,}",
            f"{a.orders:,}",
            _num(a.revenue),
        )
    console.print(table)
