"""The `empreinte` command: one Typer app, one module per command group.

| module | commands |
| --- | --- |
| `workspace` | init, serve, keys, tokens |
| `events` | events count/tail/show, import |
| `profiles`, `identity` | profile show/find/timeline; identity explain/conflicts/block/cut/… |
| `match` | match run/reviews/accept/reject |
| `privacy` | consent, users, erase, export |
| `report` | report nps/csat/ces/drivers/detractors/kano/experiment |
| `journey_paths` | paths, retention |
| `demo` | demo |
| `journey_channels` | channels classes/mix/ropo/friction |
| `journey_funnels` | funnel |
| `journey_attribution` | attribution |
| `know_segments` | segment create/update/preview/list/show/members/export/refresh/… |
| `know_value` | rfm, clv |
| `know_predictions` | predict, churn, generations, icp |
| `know_personas` | personas |
| `activate_offers` | offers import/list/show/train/next/performance |
| `activate_stories` | products import/list/show; stories show/render/community/share |
| `activate_loyalty` | loyalty run/overview/balance/ledger/redeem/report, loyalty challenges … |
| `activate_destinations` | destinations add/list/show/remove/sync/deliveries/retry |
| `activate_partners` | partners brands/report |
| `voc_import` | voc import, voc originals enable/disable/status/show |
| `voc` | voc refresh/conversations/conversation/topics (rename, merge)/reasons/quality |
| `voc_calls` | voc calls |

Each module loads only Typer, Rich and `cli.common` at import; the work (the workspace,
analytics, Splink, the web server) is imported when a command runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from empreinte.cli import (
    activate_partners,
    common,
    demo,
    events,
    journey_attribution,
    journey_funnels,
    journey_paths,
    know_personas,
    know_predictions,
    know_value,
    privacy,
    publish,
    workspace,
)
from empreinte.cli.activate_destinations import destinations_app
from empreinte.cli.activate_loyalty import loyalty_app
from empreinte.cli.activate_offers import offers_app
from empreinte.cli.activate_stories import products_app, stories_app
from empreinte.cli.identity import identity_app
from empreinte.cli.journey_channels import channels_app
from empreinte.cli.know_segments import segment_app
from empreinte.cli.match import match_app
from empreinte.cli.profiles import profile_app
from empreinte.cli.report import report_app
from empreinte.cli.voc import voc_app

app = typer.Typer(
    help="empreinte — customer data and experience platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def options(
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="Analytics engine for this run: duckdb, spark, spark:<master> or"
            " spark://host:port (default: env EMPREINTE_ENGINE, then \\[analytics] in"
            " empreinte.toml, then duckdb).",
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="The log reports read on Spark: workspace (this workspace's tables) or"
            " published (the log every collector published to \\[publish] url; default:"
            " \\[analytics] source, then workspace).",
        ),
    ] = None,
) -> None:
    """empreinte — customer data and experience platform."""
    common.select_engine(engine, source)


app.command()(workspace.init)
app.command()(workspace.serve)
app.add_typer(workspace.keys_app, name="keys")
app.add_typer(workspace.tokens_app, name="tokens")
app.add_typer(events.events_app, name="events")
app.command("import")(events.import_)
app.add_typer(profile_app, name="profile")
app.add_typer(identity_app, name="identity")
app.add_typer(match_app, name="match")
app.add_typer(privacy.consent_app, name="consent")
app.add_typer(privacy.users_app, name="users")
app.command("erase")(privacy.erase)
app.command("publish")(publish.publish)
app.command("export")(privacy.export)
app.add_typer(report_app, name="report")
app.command("paths")(journey_paths.paths)
app.command("retention")(journey_paths.retention)
app.command()(demo.demo)
app.add_typer(channels_app, name="channels")
app.command("funnel")(journey_funnels.funnel)
app.command("attribution")(journey_attribution.attribution)
app.add_typer(segment_app, name="segment")
app.add_typer(products_app, name="products")
app.add_typer(stories_app, name="stories")
app.add_typer(loyalty_app, name="loyalty")
app.command("rfm")(know_value.rfm)
app.command("clv")(know_value.clv)
app.command("predict")(know_predictions.predict)
app.command("churn")(know_predictions.churn)
app.command("generations")(know_predictions.generations)
app.command("icp")(know_predictions.icp)
app.command("personas")(know_personas.personas)
app.add_typer(offers_app, name="offers")
app.add_typer(destinations_app, name="destinations")
app.add_typer(activate_partners.partners_app, name="partners")
app.add_typer(voc_app, name="voc")


def main() -> None:
    app()
