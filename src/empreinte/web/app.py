"""The ASGI application of a workspace: collector, read API, dashboard, CORS, error pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from empreinte import __version__
from empreinte.collect.admission import Admission
from empreinte.collect.http import Collector
from empreinte.collect.text_redaction import warm_in_background
from empreinte.collect.workers import ValidationPool
from empreinte.privacy.login_throttle import LoginThrottle
from empreinte.privacy.users import Users
from empreinte.voc.model import CONVERSATION_EVENTS
from empreinte.web.activate_destinations_api import DestinationsApi, DestinationSender
from empreinte.web.activate_loyalty_api import LoyaltyApi, LoyaltyRunner
from empreinte.web.activate_offers_api import OffersApi, OffersRefresher
from empreinte.web.activate_partners_api import PartnersApi
from empreinte.web.activate_stories_api import StoriesApi
from empreinte.web.api import ReadApi
from empreinte.web.cx_api import CxApi
from empreinte.web.dashboard.app import Dashboard
from empreinte.web.errors import EXCEPTION_HANDLERS
from empreinte.web.headers import SecurityHeaders
from empreinte.web.identity_api import IdentityApi, IdentitySync
from empreinte.web.journey_attribution_api import JourneyAttributionApi
from empreinte.web.journey_channels_api import JourneyChannelsApi
from empreinte.web.journey_funnels_api import JourneyFunnelsApi
from empreinte.web.journey_paths_api import JourneyPathsApi
from empreinte.web.know_personas_api import KnowPersonasApi
from empreinte.web.know_predictions_api import KnowPredictionsApi
from empreinte.web.know_segments_api import SegmentsApi, SegmentScheduler
from empreinte.web.know_value_api import KnowValueApi
from empreinte.web.openapi import OpenApi
from empreinte.web.privacy_api import PrivacyApi
from empreinte.web.profiles_api import ProfilesApi
from empreinte.web.publish_loop import PublishLoop
from empreinte.web.snapshot_api import SnapshotApi
from empreinte.web.sources_api import SourcesApi
from empreinte.web.tracking_spec import documented
from empreinte.web.voc_api import VocApi, VocRefresher
from empreinte.web.voc_calls_api import VocCallsApi
from empreinte.workspace import Workspace


def create_app(
    workspace: Workspace,
    local_secret: str | None = None,
    on_shutdown: Callable[[], None] | None = None,
    workers: int = 0,
) -> Starlette:
    """The whole HTTP surface of `workspace`. Closing the app closes the workspace.

    `local_secret` lets the local CLI ask for snapshots (see web/snapshot_api.py);
    `on_shutdown` runs when the server stops (uvicorn then re-raises SIGTERM, so code after
    `uvicorn.run` would not); `workers`: processes that parse and validate batches beside
    the server's (collect/workers.py), none by default."""
    # A workspace that has taken conversations loads the redaction's models at start, in the
    # background (here and in the workers), not when the next call arrives.
    warm_texts = any(workspace.count(event=event) for event in CONVERSATION_EVENTS)
    pool = ValidationPool(workers, workspace.policy, warm_texts) if workers > 0 else None
    admission = Admission(workspace.collector_settings.validation_budget)
    collector = Collector(
        workspace.credentials,
        workspace.writer,
        workspace.policy,
        pool,
        admission,
        workspace.rejections,
    )
    api = ReadApi(workspace.engine, workspace.credentials, workspace.policy.pseudonymiser)
    profiles = ProfilesApi(workspace)
    identity = IdentityApi(workspace)
    # Dashboard users: session tokens are accepted as Bearer tokens by `web.auth.require`.
    users = Users.for_workspace(workspace.path, workspace.privacy_store)
    # One throttle for the API's logins and the dashboard's: a guesser gains nothing by
    # alternating.
    throttle = LoginThrottle.from_mapping(workspace.config.logins)
    privacy = PrivacyApi(workspace, users, throttle)
    cx = CxApi(workspace)
    attribution = JourneyAttributionApi(workspace)
    snapshots = SnapshotApi(workspace, local_secret)
    # The identity graph follows the log in the background, deferred while the writer has
    # rows waiting (at most `max_delay` late); reads also sync first.
    writer = workspace.writer
    identity_sync = IdentitySync(workspace, busy=lambda: writer.busy)
    segment_scheduler = SegmentScheduler(workspace)
    offers_refresher = OffersRefresher(workspace)
    loyalty_runner = LoyaltyRunner(workspace)
    destination_sender = DestinationSender(workspace)
    voc_refresher = VocRefresher(workspace)
    publisher = PublishLoop(workspace)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Blocking reads (`run_in_threadpool`: reports, pages, the query API) share AnyIO's
        # default pool; bounded below the cores, they leave ingestion (its own threads and
        # processes) a core (collect/settings.py).
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = workspace.collector_settings.read_threads
        if pool is not None:
            pool.start()
        if warm_texts:
            warm_in_background()
        identity_sync.start()
        segment_scheduler.start()
        offers_refresher.start()
        loyalty_runner.start()
        destination_sender.start()
        voc_refresher.start()
        publisher.start()
        yield
        publisher.stop()
        voc_refresher.stop()
        destination_sender.stop()
        loyalty_runner.stop()
        offers_refresher.stop()
        segment_scheduler.stop()
        identity_sync.stop()
        collector.close()
        if pool is not None:
            pool.close()
        workspace.close()
        if on_shutdown is not None:
            on_shutdown()

    app = Starlette(
        # Every route carries its operation (web/operation.py): GET /api/openapi.json
        # describes them all.
        routes=[
            *documented(collector.routes()),
            *api.routes(),
            *profiles.routes(),
            *identity.routes(),
            *privacy.routes(),
            *cx.routes(),
            *JourneyChannelsApi(workspace).routes(),
            *JourneyFunnelsApi(workspace).routes(),
            *JourneyPathsApi(workspace).routes(),
            *attribution.routes(),
            *SegmentsApi(workspace).routes(),
            *OffersApi(workspace).routes(),
            *StoriesApi(workspace).routes(),
            *LoyaltyApi(workspace).routes(),
            *KnowValueApi(workspace).routes(),
            *KnowPredictionsApi(workspace).routes(),
            *KnowPersonasApi(workspace).routes(),
            *DestinationsApi(workspace).routes(),
            *VocApi(workspace).routes(),
            *PartnersApi(workspace).routes(),
            *VocCallsApi(workspace).routes(),
            *snapshots.routes(),
            *SourcesApi(workspace, workspace.rejections).routes(),
            *OpenApi(__version__).routes(),
            # Last: the dashboard's pages at `/` (after every API path).
            Dashboard(workspace, users, throttle).mount(),
        ],
        middleware=[
            # Browsers post from any site that embeds the tracking snippet.
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["*"],
                # analytics.js reads Retry-After to pace its retries after a 429 or 503;
                # without this the browser hides it from the page's script.
                expose_headers=["Retry-After"],
                max_age=86_400,
            ),
            Middleware(SecurityHeaders),
        ],
        # Routes raise; one handler per kind of error answers (web/errors.py).
        exception_handlers=dict(EXCEPTION_HANDLERS),
        lifespan=lifespan,
    )
    app.state.sessions = users
    return app
