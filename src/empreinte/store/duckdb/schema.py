"""Schema of the embedded DuckDB workspace, as an ordered list of migrations.

A migration is never edited once released: a change of shape is a new entry at the end.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1 — the event log, sources, write keys and API tokens.
    """
    CREATE TABLE events (
        seq                BIGINT NOT NULL,
        message_id         VARCHAR NOT NULL,
        source             VARCHAR NOT NULL,
        type               VARCHAR NOT NULL,
        event              VARCHAR,
        name               VARCHAR,
        user_id            VARCHAR,
        anonymous_id       VARCHAR,
        group_id           VARCHAR,
        previous_id        VARCHAR,
        timestamp          TIMESTAMPTZ NOT NULL,
        original_timestamp TIMESTAMPTZ,
        sent_at            TIMESTAMPTZ,
        received_at        TIMESTAMPTZ NOT NULL,
        channel            VARCHAR,
        is_bot             BOOLEAN NOT NULL,
        properties         JSON,
        traits             JSON,
        context            JSON,
        integrations       JSON,
        extra              JSON
    );
    CREATE TABLE sources (
        name       VARCHAR PRIMARY KEY,
        created_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE write_keys (
        key_hash   VARCHAR PRIMARY KEY,
        source     VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        revoked_at TIMESTAMPTZ
    );
    CREATE TABLE api_tokens (
        token_hash VARCHAR PRIMARY KEY,
        name       VARCHAR NOT NULL,
        role       VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        revoked_at TIMESTAMPTZ
    );
    """,
    # 2 — identity, personal data apart from behaviour, consent, erasure, users, matching.
    """
    ALTER TABLE events ADD COLUMN identifiers VARCHAR[];
    -- Raw personal values of an event (e-mail, phone, names, street, IP), keyed by JSON path.
    CREATE TABLE pii_vault (
        seq        BIGINT NOT NULL,
        message_id VARCHAR NOT NULL,
        source     VARCHAR NOT NULL,
        "values"   JSON NOT NULL
    );
    -- Derived: which profile each identifier belongs to (rebuilt from the log at will).
    CREATE TABLE identities (
        id_key     VARCHAR NOT NULL,
        id_type    VARCHAR NOT NULL,
        profile_id VARCHAR NOT NULL,
        first_seq  BIGINT NOT NULL,
        last_seq   BIGINT NOT NULL
    );
    -- Derived: links that merge protection refused, with the rule that refused them.
    CREATE TABLE identity_conflicts (
        seq              BIGINT NOT NULL,
        message_id       VARCHAR NOT NULL,
        id_key           VARCHAR NOT NULL,
        profile_id       VARCHAR NOT NULL,
        other_profile_id VARCHAR,
        rule             VARCHAR NOT NULL,
        recorded_at      TIMESTAMPTZ NOT NULL
    );
    -- Append-only admin decisions: block an identifier, cut it out of a profile, undo.
    CREATE TABLE identity_overrides (
        recorded_at TIMESTAMPTZ NOT NULL,
        actor      VARCHAR NOT NULL,
        action     VARCHAR NOT NULL,
        id_key     VARCHAR NOT NULL,
        profile_id VARCHAR,
        reason     VARCHAR
    );
    CREATE TABLE identity_state (
        name  VARCHAR PRIMARY KEY,
        value VARCHAR NOT NULL
    );
    -- Hashed identifiers of erased people: events carrying them are dropped at ingestion.
    CREATE TABLE suppression (
        id_hash    VARCHAR PRIMARY KEY,
        added_at   TIMESTAMPTZ NOT NULL,
        erasure_id VARCHAR NOT NULL
    );
    CREATE TABLE suppressed_counts (
        day    DATE NOT NULL,
        source VARCHAR NOT NULL,
        events BIGINT NOT NULL,
        PRIMARY KEY (day, source)
    );
    -- One row per erasure, with no personal data.
    CREATE TABLE erasure_audit (
        erasure_id VARCHAR PRIMARY KEY,
        recorded_at TIMESTAMPTZ NOT NULL,
        actor      VARCHAR NOT NULL,
        id_hashes  VARCHAR[] NOT NULL,
        counts     JSON NOT NULL
    );
    CREATE TABLE users (
        username      VARCHAR PRIMARY KEY,
        password_hash VARCHAR NOT NULL,
        role          VARCHAR NOT NULL,
        created_at    TIMESTAMPTZ NOT NULL,
        disabled_at   TIMESTAMPTZ
    );
    -- Probabilistic matches waiting for an admin's decision.
    CREATE TABLE match_reviews (
        review_id   VARCHAR PRIMARY KEY,
        created_at  TIMESTAMPTZ NOT NULL,
        source_file VARCHAR NOT NULL,
        record_id   VARCHAR NOT NULL,
        profile_id  VARCHAR,
        other_record_id VARCHAR,
        probability DOUBLE NOT NULL,
        detail      JSON NOT NULL,
        status      VARCHAR NOT NULL,
        decided_at  TIMESTAMPTZ,
        decided_by  VARCHAR
    );
    """,
    # 3 — derived for analytics, rewritten when a report needs them and the log has changed:
    # who allows each purpose now, and each profile's current country, birth year (never the
    # date) and preferred channel.
    """
    CREATE TABLE consent_state (
        profile_id VARCHAR NOT NULL,
        purpose    VARCHAR NOT NULL,
        allowed    BOOLEAN NOT NULL
    );
    CREATE TABLE profile_facts (
        profile_id        VARCHAR NOT NULL,
        country           VARCHAR,
        birth_year        INTEGER,
        preferred_channel VARCHAR
    );
    -- What each derived table was last computed from: settings and identity rules (`basis`)
    -- and the log up to `upto`.
    CREATE TABLE derived_state (
        name  VARCHAR PRIMARY KEY,
        basis VARCHAR NOT NULL,
        upto  BIGINT NOT NULL
    );
    """,
    # 4 — a suppressed identifier other people's events carried too at its erasure (a shared
    # personal one): a later event naming someone else is stored without it, not dropped.
    """
    ALTER TABLE suppression ADD COLUMN shared BOOLEAN NOT NULL DEFAULT false;
    """,
    # 5 — saved segments (issue 13): their definitions, current members and membership history.
    """
    CREATE TABLE segments (
        name             VARCHAR PRIMARY KEY,
        expression       VARCHAR NOT NULL,
        description      VARCHAR,
        schedule         VARCHAR,
        created_at       TIMESTAMPTZ NOT NULL,
        created_by       VARCHAR,
        last_computed_at TIMESTAMPTZ
    );
    CREATE TABLE segment_members (
        segment    VARCHAR NOT NULL,
        profile_id VARCHAR NOT NULL,
        entered_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE segment_history (
        segment    VARCHAR NOT NULL,
        profile_id VARCHAR NOT NULL,
        change     VARCHAR NOT NULL,  -- 'entered' or 'left'
        changed_at TIMESTAMPTZ NOT NULL
    );
    """,
    # 6 — computed traits that take a model run to compute (CLV, churn risk, RFM, persona):
    # one row per person and trait, a number or a text, and when it was computed.
    """
    CREATE TABLE computed_traits (
        profile_id  VARCHAR NOT NULL,
        trait       VARCHAR NOT NULL,
        number      DOUBLE,
        text        VARCHAR,
        computed_at TIMESTAMPTZ NOT NULL
    );
    """,
    # 7 — dashboard sessions ended by a logout before their expiry (a session token is signed
    # and stateless otherwise): the digest of the token, kept until the token would expire.
    """
    CREATE TABLE ended_sessions (
        token_hash VARCHAR PRIMARY KEY,
        expires_at TIMESTAMPTZ NOT NULL
    );
    """,
)
