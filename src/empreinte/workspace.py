"""A workspace: one directory holding a brand's event log and settings.

`empreinte.open(path)` is the Python API for server-side use: the same validation, dedup and
durability as the HTTP collector, without HTTP.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from empreinte import config_sections
from empreinte.collect.rejections import RejectionRegister
from empreinte.collect.settings import CollectorSettings
from empreinte.collect.validate import normalise, now_micros
from empreinte.collect.window_file import DIRECTORY as DEDUP_WINDOW_DIR
from empreinte.collect.writer import EventWriter, WriteResult
from empreinte.config import WorkspaceConfig
from empreinte.credentials import PYTHON_SOURCE as PYTHON_SOURCE
from empreinte.credentials import Credentials
from empreinte.errors import ConfigError, InvalidMessage, WorkspaceNotFound
from empreinte.privacy.consent import ConsentPolicy
from empreinte.privacy.pii import (
    IngestPolicy,
    personal_keys,
    rehydrate,
    stored_user_id,
    without_vault,
)
from empreinte.privacy.pseudonym import Pseudonymiser
from empreinte.privacy.suppression import Suppression
from empreinte.privacy.text_originals import OriginalsVault
from empreinte.store.engine import DATABASE_FILE as DATABASE_FILE
from empreinte.store.engine import Engine, open_engine
from empreinte.store.records import EventFilter, EventRow
from empreinte.store.settings import StorageSettings

#: Where reports on Spark write what they read: exports, snapshots of the published log.
EXPORTS_DIR = "exports"

if TYPE_CHECKING:
    from empreinte.activate.destinations.service import Destinations
    from empreinte.activate.loyalty.service import Loyalty
    from empreinte.activate.offers.service import OfferService
    from empreinte.activate.stories.service import Stories
    from empreinte.analytics.cx.reports import CxReports
    from empreinte.analytics.journeys.reports import JourneyReports
    from empreinte.analytics.know.reports import KnowReports
    from empreinte.analytics.know.scorers import PredictRun
    from empreinte.analytics.log import AnalyticsLog
    from empreinte.analytics.partners.service import Partners
    from empreinte.analytics.settings import AnalyticsSettings
    from empreinte.identity.service import IdentityService
    from empreinte.profiles.profile import Profiles
    from empreinte.publish.collector import Publication
    from empreinte.segments.service import Segments
    from empreinte.store.analytics import AnalyticsBackend
    from empreinte.store.engine_choice import AnalyticsEngine
    from empreinte.voc.service import VocService


@dataclass(frozen=True)
class Rejected:
    """One message refused, with where it was and why."""

    index: int
    reason: str
    field: str | None = None
    code: str = "invalid_message"
    message_id: str | None = None


@dataclass
class IngestReport:
    """The outcome of writing many messages: what was stored, skipped as retries, refused."""

    stored: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    suppressed: int = 0  # dropped: they carry an identifier of an erased person

    def add(self, result: WriteResult) -> None:
        self.stored += result.stored
        self.duplicates += result.duplicates
        self.suppressed += result.suppressed


class Workspace:
    """An open workspace. Use as a context manager, or call `close()`."""

    def __init__(
        self, path: Path, engine: Engine, *, writer_options: Mapping[str, float] | None = None
    ):
        """`writer_options` are passed to the `EventWriter` (e.g. `max_pending`,
        `storage_retry_after`): limits an operator or a test may tune."""
        self.path = path
        self.engine = engine
        self.is_snapshot = False  # reading a copy of the database a running server made
        self.config = config_sections.check(WorkspaceConfig.load(path), path)
        # The engine reports run on when set (the CLI's --engine); else env and [analytics].
        self.analytics_engine: AnalyticsEngine | None = None
        engine.limit_resources(StorageSettings.from_mapping(self.config.storage))
        self.collector_settings = CollectorSettings.from_mapping(self.config.collector)
        self.policy = IngestPolicy(
            Pseudonymiser.for_workspace(path),
            self.config.default_region,
            personal_keys(self.config.privacy),
            ConsentPolicy.from_mapping(self.config.consent).trusted,
            originals=OriginalsVault(path),
        )
        self.credentials = Credentials(engine)
        # What the collector refused, per source and reason (in memory: collect/rejections.py).
        self.rejections = RejectionRegister()
        self.privacy_store = engine.privacy_store()
        # Identifiers of erased people (hashed): the writer drops events that carry them.
        self.suppression = Suppression(
            self.privacy_store, self.policy.pseudonymiser, self.policy.default_region
        )
        self._writer_options: dict[str, Any] = {
            "queue_budget": self.collector_settings.queue_budget,
            **(writer_options or {}),
        }
        self._writer: EventWriter | None = None
        self._writer_lock = threading.Lock()
        self._identity: IdentityService | None = None
        self._profiles: Profiles | None = None
        self._published: Publication | None = None
        self._derived_lock = threading.Lock()
        # Re-entrant: computing profile_facts reads event_owners, brought up to date first.
        self._analytics_lock = threading.RLock()

    @property
    def writer(self) -> EventWriter:
        """The workspace's single event writer, started on first use."""
        with self._writer_lock:
            if self._writer is None:
                self._writer = EventWriter(
                    self.engine,
                    suppression=self.suppression,
                    window_dir=self.path / DEDUP_WINDOW_DIR,
                    **self._writer_options,
                )
            return self._writer

    def flush(self) -> None:
        """Wait until every event submitted so far has been written (or dropped)."""
        with self._writer_lock:
            writer = self._writer
        if writer is not None:
            writer.write([])

    @property
    def identity(self) -> IdentityService:
        """The workspace's identity graph, with the merge rules of `[identity]` in its config.

        Profile ids are salted with a secret derived from the workspace's pseudonymisation key,
        so that nobody can compute a person's profile id from a guessed userId. Call `sync()`
        before reading when events may have been written since (the server does it).
        """
        with self._derived_lock:
            if self._identity is None:
                from empreinte.identity.rules import MergeRules
                from empreinte.identity.service import IdentityService

                self._identity = IdentityService.open(
                    self.engine,
                    MergeRules.from_mapping(self.config.identity),
                    salt=self.policy.pseudonymiser.pseudonym("profile_id", "salt"),
                )
            return self._identity

    @property
    def profiles(self) -> Profiles:
        """Unified profiles and customer-360 timelines (see `empreinte.profiles`)."""
        with self._derived_lock:
            if self._profiles is None:
                from empreinte.profiles.profile import Profiles

                self._profiles = Profiles(self)
            return self._profiles

    def analytics_settings(self) -> AnalyticsSettings:
        """What reports read of this workspace besides its tables (see analytics/settings.py)."""
        from empreinte.analytics.cx.settings import CxSettings
        from empreinte.analytics.generations import Generations
        from empreinte.analytics.settings import AnalyticsSettings

        profiles = self.profiles
        return AnalyticsSettings(
            timezone=self.config.timezone,
            default_region=self.config.default_region,
            generations=Generations.from_mapping(self.config.generations),
            cx=CxSettings.from_mapping(self.config.cx),
            traits=profiles.policy,
            ownership=profiles.ownership(),
        )

    def analytics(self, engine: AnalyticsEngine | str | None = None) -> AnalyticsLog:
        """The log for one report (close it, or use `with`), after the identity sync, on the
        analytics engine chosen (`engine`, else `EMPREINTE_ENGINE`, else `[analytics]`; see
        store/engine_choice.py). On DuckDB the tables derived for analytics are brought up to
        date when a report first reads them; on Spark every table is exported to Parquet
        first (a snapshot, deleted when the log closes)."""
        from empreinte.analytics.log import AnalyticsLog
        from empreinte.store.engine_choice import AnalyticsEngine

        if isinstance(engine, str):
            engine = AnalyticsEngine.parse(engine)
        choice = engine or self.analytics_engine or AnalyticsEngine.chosen(self.config.analytics)
        if choice.source == "published":
            return AnalyticsLog(self._spark_published(choice), self.analytics_settings())
        if choice.kind == "spark":
            return AnalyticsLog(self._spark_export(choice), self.analytics_settings())
        self.identity.sync()
        return AnalyticsLog(self.engine.analytics(), self.analytics_settings(), self._prepare)

    def _spark_export(self, choice: AnalyticsEngine) -> AnalyticsBackend:
        """A Spark backend over a fresh export of this workspace's analytics tables."""
        from empreinte.store.spark.backend import SparkAnalytics
        from empreinte.store.spark.session import spark_session

        session = spark_session(choice.spark_master)
        exports = self.path / EXPORTS_DIR
        exports.mkdir(mode=0o700, exist_ok=True)
        directory = Path(tempfile.mkdtemp(prefix="spark-", dir=exports))
        try:
            self.export_analytics(directory)
            return SparkAnalytics(session, directory, owns=True)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise

    def _spark_published(self, choice: AnalyticsEngine) -> AnalyticsBackend:
        """A Spark backend over the snapshot of the published log's newest version (prepared
        on the cluster first when there is none: store/spark/published.py)."""
        from empreinte.analytics.consent_state import consent_state
        from empreinte.analytics.log import AnalyticsLog
        from empreinte.identity.at_scale import rebuild_on_spark
        from empreinte.privacy.consent import PURPOSES, policy_of
        from empreinte.store.spark import published
        from empreinte.store.spark.backend import SparkAnalytics
        from empreinte.store.spark.session import spark_session

        if choice.kind != "spark":
            raise ConfigError(
                "the published log is read on Spark: choose --engine spark (or spark://…)"
            )
        url = self.published.settings.url
        if url is None:
            raise ConfigError('[analytics] source = "published" needs [publish] url')
        session = spark_session(choice.spark_master)
        settings = self.analytics_settings()
        identity = self.identity
        policy = policy_of(self)
        basis = _derived_basis(identity.fingerprint(), settings, policy)

        def identities(events: str, output: Path) -> None:
            rebuild_on_spark(
                session,
                events,
                output,
                identity.rules,
                identity.folded_overrides,
                salt=identity.salt,
            )

        def derive(backend: SparkAnalytics) -> dict[str, Any]:
            from empreinte.analytics.attributes import profile_facts

            log = AnalyticsLog(backend, settings)
            return {
                "consent_state": consent_state(log, policy, PURPOSES),
                "profile_facts": profile_facts(log),
            }

        def workspace_tables(directory: Path) -> None:
            self.engine.export_parquet(directory, ["products"])
            self.engine.export_parquet(directory, published.EMPTY, empty=True)

        log = self.published.log()  # with `[publish.storage_options]`
        manifest = log.manifest()
        with self._analytics_lock:
            snapshot = published.prepare(
                session,
                manifest.version,
                log.files(manifest),
                self.path / EXPORTS_DIR,
                basis=basis,
                identities=identities,
                derive=derive,
                workspace_tables=workspace_tables,
            )
        return SparkAnalytics(session, snapshot, personal_values=False)

    def drop_published_snapshots(self) -> int:
        """Remove the snapshots of the published log reports read (an erasure does: they copy
        published rows); how many."""
        from empreinte.store.spark.published import drop_snapshots

        with self._analytics_lock:
            return drop_snapshots(self.path / EXPORTS_DIR)

    def export_analytics(self, directory: str | Path) -> dict[str, Path]:
        """The tables analytics read, brought up to date and written to `directory` as Parquet
        for another engine (store/spark/); table → file. The files hold personal data (the
        vault's raw values): owner-only, and an erasure reaches them only by exporting again."""
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        target.chmod(0o700)
        with self.analytics("duckdb") as log:
            for table in ("consent_state", "profile_facts"):
                self._prepare(log, table)
        files = self.engine.export_parquet(target)
        for path in files.values():
            path.chmod(0o600)
        return files

    def _prepare(self, log: AnalyticsLog, table: str) -> None:
        """Bring derived table `table` up to date with the log. Its basis is what every row
        depends on (the identity rules, salt and overrides; the settings; the consent
        policy): when that changed, it is rewritten whole. Otherwise only events after the
        seq it was computed up to can change it: consent and event owners are recomputed
        whole (cheap; a merge moves old events too), profile facts only for the profiles
        that own those events (a merge is always made by an event of the surviving profile;
        rows of profiles gone from the graph are dropped)."""
        from empreinte.analytics.attributes import changed_owners, profile_facts
        from empreinte.analytics.consent_state import consent_state
        from empreinte.privacy.consent import PURPOSES, policy_of
        from empreinte.store.identity_store import CURSOR, FINGERPRINT
        from empreinte.store.ownership import owners_of

        with self._analytics_lock:
            # Up to the seq the identity graph has resolved: later events (arriving while a
            # report opens) have no owner yet and are read by the next refresh.
            state = self.engine.identity_store().read_state()
            upto = int(state.get(CURSOR, "0"))
            rules = state.get(FINGERPRINT, "")
            policy = policy_of(self)
            basis = _derived_basis(rules, log.settings, policy)
            done = self.engine.derived_state(table)
            if done == (basis, upto):
                return
            if table == "event_owners":
                # Whole: a merge moves the events of every identifier of the profiles merged.
                owners = owners_of(
                    log.table("events"), log.table("identities"), log.settings.ownership
                )
                self.engine.write_derived(table, log.to_pyarrow(owners), basis=basis, upto=upto)
            elif table == "consent_state":
                # Every purpose: segments test any (`consented("marketing_email")`), and
                # models never score people who refused profiling (analytics/know/). The
                # expression Spark runs too; here one query (bench/consent_state.py: the same
                # rows as the ledger's SQL per purpose, in less time).
                allowing = consent_state(log, policy, PURPOSES)
                self.engine.write_derived(table, log.to_pyarrow(allowing), basis=basis, upto=upto)
            elif table == "profile_facts" and (done is None or done[0] != basis):
                self.engine.write_derived(table, profile_facts(log), basis=basis, upto=upto)
            elif table == "profile_facts" and done is not None:
                changed = changed_owners(log, done[1], upto)
                rows = profile_facts(log, owners=changed)
                ids = log.to_pyarrow(changed)["profile_id"].combine_chunks()
                self.engine.write_derived(table, rows, basis=basis, upto=upto, replacing=ids)

    @property
    def cx(self) -> CxReports:
        """Customer-experience reports: NPS/CSAT/CES, key drivers, Kano, experiments."""
        from empreinte.analytics.cx.reports import CxReports

        return CxReports(self.analytics, self.config.local)

    @property
    def journeys(self) -> JourneyReports:
        """Journey reports: funnels, paths, retention, omnichannel, ROPO, friction, attribution."""
        from empreinte.analytics.journeys.reports import JourneyReports

        return JourneyReports(self.analytics, self.config.local)

    @property
    def segments(self) -> Segments:
        """Saved segments: define, refresh (members and their history), size, overlap."""
        from empreinte.segments.service import Segments

        return Segments(self, self.engine.segment_store())

    @property
    def voc(self) -> VocService:
        """The voice of the customer understood: sentiment, topics, reasons, quality (one per
        open workspace: it keeps the topic model it fitted last)."""
        with self._derived_lock:
            service: VocService | None = self.__dict__.get("_voc")
            if service is None:
                from empreinte.voc.service import VocService

                service = VocService(self, self.engine.voc_store())
                self.__dict__["_voc"] = service
            return service

    @property
    def offers(self) -> OfferService:
        """Next best offers: the catalogue, the recommender, the serving state (one per open
        workspace: it keeps what a request needs in memory)."""
        with self._derived_lock:
            service: OfferService | None = self.__dict__.get("_offers")
            if service is None:
                from empreinte.activate.offers.service import OfferService

                service = OfferService(self)
                self.__dict__["_offers"] = service
            return service

    @property
    def stories(self) -> Stories:
        """The year in review (each person's story, share links, batches) and the product
        catalogue it reads."""
        from empreinte.activate.stories.service import Stories

        return Stories(self)

    @property
    def loyalty(self) -> Loyalty:
        """The loyalty programme: points ledger, earning runs, redemption, brand challenges."""
        from empreinte.activate.loyalty.service import Loyalty

        return Loyalty(self, self.engine.loyalty_store())

    @property
    def published(self) -> Publication:
        """What this workspace's collector publishes to the Parquet log of `[publish] url`
        (publish/, docs/publish.md); inert without one."""
        with self._derived_lock:
            if self._published is None:
                from empreinte.publish.collector import Publication
                from empreinte.publish.settings import PublishSettings

                settings = PublishSettings.from_mapping(self.config.publish)
                self._published = Publication(self.path, self.engine, settings)
            return self._published

    @property
    def destinations(self) -> Destinations:
        """Where segments, traits and events are sent, behind consent; their outbox; the
        deletion requests erasure sends them (activate/destinations/)."""
        from empreinte.activate.destinations.service import Destinations

        return Destinations(self, self.engine.destination_store())

    @property
    def know(self) -> KnowReports:
        """Know-the-user reports: RFM, customer value, churn risk, personas, generations."""
        from empreinte.analytics.know.reports import KnowReports

        return KnowReports(self.analytics, self.config.local, icp=self.config.icp)

    @property
    def partners(self) -> Partners:
        """Aggregated partner insights for a brand, no cell below k (docs/partners.md)."""
        from empreinte.analytics.partners.service import Partners
        from empreinte.analytics.partners.settings import PartnerSettings

        return Partners(
            self.analytics,
            self.config.local,
            PartnerSettings.from_mapping(self.config.partners),
            ConsentPolicy.from_mapping(self.config.consent).trusted,
        )

    def predict(self, only: Sequence[str] | None = None) -> PredictRun:
        """Run the model scorers (churn risk, customer value, personas…; all, or `only`
        those named) and store what they compute per person as computed traits
        (analytics/know/scorers.py). People who do not allow `profiling` get no row."""
        from empreinte.analytics.know.scorers import predict

        with self.analytics() as log:
            return predict(log, self.engine.computed_traits(), only)

    # -- writing --------------------------------------------------------------------------

    def ingest(
        self, messages: Iterable[Any], source: str = PYTHON_SOURCE, chunk: int = 10_000
    ) -> IngestReport:
        """Validate and durably store messages; the invalid ones are reported, not raised."""
        report = IngestReport()
        rows: list[EventRow] = []
        received_at = now_micros()
        for index, message in enumerate(messages):
            try:
                rows.append(
                    normalise(message, source=source, received_at=received_at, policy=self.policy)
                )
            except InvalidMessage as exc:
                mid = message.get("messageId") if isinstance(message, dict) else None
                report.rejected.append(
                    Rejected(
                        index,
                        exc.reason,
                        exc.field,
                        exc.code,
                        mid if isinstance(mid, str) else None,
                    )
                )
            if len(rows) >= chunk:
                report.add(self.writer.write(rows))
                rows = []
                received_at = now_micros()
        if rows:
            report.add(self.writer.write(rows))
        return report

    def _send(self, message: dict[str, Any]) -> str:
        row = normalise(
            {k: v for k, v in message.items() if v is not None},
            source=PYTHON_SOURCE,
            received_at=now_micros(),
            policy=self.policy,
        )
        self.writer.write([row])
        return row.message_id

    def track(
        self,
        event: str,
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        properties: dict[str, Any] | None = None,
        **fields: Any,
    ) -> str:
        """Record an action. Returns the messageId. Raises `InvalidMessage` on bad input."""
        return self._send(
            {
                "type": "track",
                "event": event,
                "userId": user_id,
                "anonymousId": anonymous_id,
                "properties": properties,
                **_segment_fields(fields),
            }
        )

    def identify(
        self,
        user_id: str | None = None,
        *,
        anonymous_id: str | None = None,
        traits: dict[str, Any] | None = None,
        **fields: Any,
    ) -> str:
        """Say who a user is and what is known of them. Returns the messageId."""
        return self._send(
            {
                "type": "identify",
                "userId": user_id,
                "anonymousId": anonymous_id,
                "traits": traits,
                **_segment_fields(fields),
            }
        )

    def page(
        self,
        name: str | None = None,
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        properties: dict[str, Any] | None = None,
        **fields: Any,
    ) -> str:
        """Record a web page view. Returns the messageId."""
        return self._send(
            {
                "type": "page",
                "name": name,
                "userId": user_id,
                "anonymousId": anonymous_id,
                "properties": properties,
                **_segment_fields(fields),
            }
        )

    def screen(
        self,
        name: str | None = None,
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        properties: dict[str, Any] | None = None,
        **fields: Any,
    ) -> str:
        """Record an app screen view. Returns the messageId."""
        return self._send(
            {
                "type": "screen",
                "name": name,
                "userId": user_id,
                "anonymousId": anonymous_id,
                "properties": properties,
                **_segment_fields(fields),
            }
        )

    def group(
        self,
        group_id: str,
        *,
        user_id: str | None = None,
        anonymous_id: str | None = None,
        traits: dict[str, Any] | None = None,
        **fields: Any,
    ) -> str:
        """Tie a user to a group (an account, a household). Returns the messageId."""
        return self._send(
            {
                "type": "group",
                "groupId": group_id,
                "userId": user_id,
                "anonymousId": anonymous_id,
                "traits": traits,
                **_segment_fields(fields),
            }
        )

    def alias(self, previous_id: str, user_id: str, **fields: Any) -> str:
        """Say that `previous_id` and `user_id` are the same person. Returns the messageId."""
        return self._send(
            {
                "type": "alias",
                "previousId": previous_id,
                "userId": user_id,
                **_segment_fields(fields),
            }
        )

    # -- reading --------------------------------------------------------------------------

    def events(
        self, limit: int = 100, newest_first: bool = True, pii: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        """Events of the log matching `filters` (the fields of `EventFilter`).

        Personal values show as pseudonyms unless `pii` is true (then they are read back from
        the vault): privacy by default, even for the workspace's owner.
        """
        records = self.engine.find_events(self._filter(filters), limit, newest_first)
        return [without_vault(rehydrate(r) if pii else r) for r in records]

    def count(self, **filters: Any) -> int:
        """How many events of the log match `filters`."""
        return self.engine.count_events(self._filter(filters))

    def _filter(self, filters: dict[str, Any]) -> EventFilter:
        """The filter of `filters`, a userId that is an e-mail as the log keeps it."""
        if isinstance(filters.get("user_id"), str):
            filters = {
                **filters,
                "user_id": stored_user_id(filters["user_id"], self.policy.pseudonymiser),
            }
        return EventFilter(**filters)

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Finish pending writes and release the database."""
        offers = self.__dict__.get("_offers")
        if offers is not None:
            offers.close()  # the impressions it has not written yet
        with self._writer_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        self.engine.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_FIELD_NAMES = {
    "message_id": "messageId",
    "timestamp": "timestamp",
    "context": "context",
    "integrations": "integrations",
}


def _derived_basis(fingerprint: str, settings: AnalyticsSettings, policy: ConsentPolicy) -> str:
    """What every row derived for analytics depends on, hashed: the identity graph's
    fingerprint (rules, salt, overrides), the report settings, the purposes and the consent
    policy (consent_state holds one row per profile and purpose, by the defaults and trusted
    sources of `[consent]`, spelt sorted: a frozenset's order changes between processes). The
    workspace's derived tables and the published log's snapshots are keyed by it."""
    from empreinte.privacy.consent import PURPOSES

    consent = (sorted(policy.defaults.items()), sorted(policy.trusted))
    basis = f"{fingerprint}|{settings!r}|{PURPOSES}|{consent}"
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def _segment_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The optional keyword arguments of the write methods, under their Segment names."""
    unknown = set(fields) - set(_FIELD_NAMES)
    if unknown:
        raise TypeError(f"unexpected argument(s): {', '.join(sorted(unknown))}")
    out = {_FIELD_NAMES[k]: v for k, v in fields.items()}
    if isinstance(out.get("timestamp"), datetime):
        out["timestamp"] = out["timestamp"].isoformat()
    return out


def open(path: str | Path, create: bool = True, *, snapshot: Path | None = None) -> Workspace:
    """Open the workspace at `path`, creating it when `create` is true. With `snapshot` (a copy
    of its database the running server made), read that copy, with the workspace's settings
    and keys, instead of the database the server holds."""
    root = Path(path)
    if not (root / DATABASE_FILE).exists():
        if not create:
            raise WorkspaceNotFound(
                f"no workspace at {root}; create one with `empreinte init {root}`"
            )
        # Owner-only: the database holds the vault of raw personal data, and DuckDB makes
        # its files (the WAL comes and goes) with the process's umask, often world-readable.
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o700)
    workspace = Workspace(root, open_engine(root, snapshot))
    workspace.is_snapshot = snapshot is not None
    for name in (DATABASE_FILE, DATABASE_FILE + ".wal"):
        if (root / name).exists() and snapshot is None:
            (root / name).chmod(0o600)
    return workspace
