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
    # 8 — offers (issue 15): the catalogue (one JSON definition per offer) and the impressions
    # the server served (capping and "ignored N times" read these, never a client's events).
    """
    CREATE TABLE offers (
        offer_id   VARCHAR PRIMARY KEY,
        definition JSON NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE offer_impressions (
        profile_id   VARCHAR NOT NULL,
        offer_id     VARCHAR NOT NULL,
        channel      VARCHAR,
        shown_at     TIMESTAMPTZ NOT NULL,
        personalised BOOLEAN NOT NULL
    );
    """,
    # 9 — stories (issue 15): the product catalogue (list prices and CO2 figures; for a
    # refurbished unit, the new unit it replaces, resolved at import) and the year-in-review
    # share links (a random id per link; the token adds an HMAC of it, never stored).
    """
    CREATE TABLE products (
        product_id   VARCHAR PRIMARY KEY,
        sku          VARCHAR,
        name         VARCHAR NOT NULL,
        brand        VARCHAR,
        category     VARCHAR,
        condition    VARCHAR NOT NULL,  -- 'new' or 'refurbished'
        price        DOUBLE,
        currency     VARCHAR,
        co2_kg       DOUBLE,
        replaces_sku VARCHAR,
        new_price    DOUBLE,
        new_co2_kg   DOUBLE,
        imported_at  TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE story_links (
        link_id    VARCHAR PRIMARY KEY,
        profile_id VARCHAR NOT NULL,
        year       INTEGER NOT NULL,
        lang       VARCHAR,
        created_at TIMESTAMPTZ NOT NULL,
        created_by VARCHAR NOT NULL
    );
    """,
    # 10 — loyalty (issue 15): the double-entry points ledger (append-only; a transaction's
    # rows sum to zero; `loyalty_sources` makes each cause post once), the earning cursor,
    # campaigns of brand-funded challenges, offers and holdouts, acceptances, outcomes.
    """
    CREATE TABLE loyalty_sources (
        source    VARCHAR PRIMARY KEY,
        txn       BIGINT NOT NULL
    );
    CREATE SEQUENCE loyalty_txn_seq START 1;
    CREATE TABLE loyalty_ledger (
        txn        BIGINT NOT NULL,
        source     VARCHAR NOT NULL,
        kind       VARCHAR NOT NULL,
        rule       VARCHAR NOT NULL,
        reason     VARCHAR NOT NULL,
        occurred_at TIMESTAMPTZ NOT NULL,
        booked_at  TIMESTAMPTZ NOT NULL,
        account    VARCHAR NOT NULL,
        -- not `profile_id`: erasure would delete half a transaction; the programme
        -- anonymises an erased member's rows whole (activate/loyalty/service.py)
        member_id  VARCHAR,
        points     BIGINT NOT NULL,
        lot_at     TIMESTAMPTZ
    );
    CREATE TABLE loyalty_cursors (
        name VARCHAR PRIMARY KEY,
        seq  BIGINT NOT NULL
    );
    CREATE TABLE loyalty_campaigns (
        name       VARCHAR PRIMARY KEY,
        document   JSON NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE loyalty_assignments (
        campaign   VARCHAR NOT NULL,
        profile_id VARCHAR NOT NULL,
        grp        VARCHAR NOT NULL,
        challenge  VARCHAR NOT NULL,
        rank       INTEGER NOT NULL,
        reason     VARCHAR NOT NULL,
        occurred_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE loyalty_acceptances (
        campaign   VARCHAR NOT NULL,
        profile_id VARCHAR NOT NULL,
        challenge  VARCHAR NOT NULL,
        occurred_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (campaign, profile_id)
    );
    CREATE TABLE loyalty_outcomes (
        campaign   VARCHAR NOT NULL,
        profile_id VARCHAR NOT NULL,
        challenge  VARCHAR NOT NULL,
        status     VARCHAR NOT NULL,
        occurred_at TIMESTAMPTZ NOT NULL
    );
    """,
    # 11 — destinations (issue 15): where segments, traits and events are sent; their outbox
    # (a delivery per message, its id the idempotency key; the payload cleared once sent);
    # what each destination was told of each segment and the digest of the traits it was last
    # sent per person; who each received (for erasure).
    """
    CREATE TABLE destinations (
        name         VARCHAR PRIMARY KEY,
        kind         VARCHAR NOT NULL,
        target       VARCHAR NOT NULL,
        purpose      VARCHAR NOT NULL,
        segments     VARCHAR[] NOT NULL,
        traits       VARCHAR[] NOT NULL,
        events       VARCHAR[] NOT NULL,
        created_at   TIMESTAMPTZ NOT NULL,
        created_by   VARCHAR,
        event_cursor BIGINT NOT NULL DEFAULT 0,
        round_at     TIMESTAMPTZ,  -- the last round, and what stopped it (NULL: nothing)
        round_error  VARCHAR
    );
    CREATE TABLE destination_deliveries (
        delivery_id VARCHAR PRIMARY KEY,
        destination VARCHAR NOT NULL,
        profile_id  VARCHAR,  -- NULL for deletion requests and exports
        type        VARCHAR NOT NULL,
        payload     JSON,
        status      VARCHAR NOT NULL,
        attempts    INTEGER NOT NULL,
        next_at     TIMESTAMPTZ,
        last_error  VARCHAR,
        created_at  TIMESTAMPTZ NOT NULL,
        sent_at     TIMESTAMPTZ,
        erasure_id  VARCHAR
    );
    CREATE TABLE destination_audiences (
        destination VARCHAR NOT NULL,
        segment     VARCHAR NOT NULL,
        profile_id  VARCHAR NOT NULL
    );
    CREATE TABLE destination_traits (
        destination VARCHAR NOT NULL,
        profile_id  VARCHAR NOT NULL,
        digest      VARCHAR NOT NULL
    );
    CREATE TABLE destination_recipients (
        destination  VARCHAR NOT NULL,
        profile_id   VARCHAR NOT NULL,
        user_id      VARCHAR,
        anonymous_id VARCHAR,
        last_sent_at TIMESTAMPTZ NOT NULL
    );
    """,
    # 12 — voice of the customer: each redacted text of the log (keyed by its event's seq)
    # with its analysis, the topics and their labels, and where the analysis has read up to.
    """
    CREATE TABLE voc_texts (
        seq             BIGINT PRIMARY KEY,
        kind            VARCHAR NOT NULL,   -- call | chat | survey | review
        event           VARCHAR,
        occurred_at     TIMESTAMPTZ NOT NULL,
        channel         VARCHAR,
        language        VARCHAR,            -- fr | en | NULL (undetermined)
        turns           INTEGER NOT NULL,
        words           INTEGER NOT NULL,
        duration_s      DOUBLE,
        queue           VARCHAR,
        agent_id        VARCHAR,
        sentiment       DOUBLE,             -- -1 (negative) .. 1 (positive), the customer's
        sentiment_start DOUBLE,             -- the customer's first turns
        sentiment_end   DOUBLE,             -- the customer's last turns
        turn_sentiment  DOUBLE[],           -- per turn, in order
        reason          VARCHAR,            -- reason for calling (calls and chats)
        reason_score    DOUBLE,
        reason_by       VARCHAR,            -- rule | model
        silence_ratio   DOUBLE,
        overtalk_ratio  DOUBLE,
        analysed_at     TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE voc_topics (
        topic_id    INTEGER PRIMARY KEY,
        terms       VARCHAR[] NOT NULL,     -- top terms, most weighty first
        label       VARCHAR,                -- a CX manager's name for it (NULL: the terms)
        merged_into INTEGER,                -- merged into another topic (NULL: its own)
        texts       INTEGER NOT NULL,
        created_at  TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE voc_text_topics (
        seq      BIGINT NOT NULL,
        topic_id INTEGER NOT NULL,
        weight   DOUBLE NOT NULL
    );
    CREATE TABLE voc_state (
        name  VARCHAR PRIMARY KEY,          -- e.g. "cursor": the last seq analysed
        value VARCHAR NOT NULL
    );
    """,
    # 13 — voice of the customer, originals: who opted in or out, who read which original,
    # when, and with what outcome (the sealed originals travel in pii_vault; their keys live
    # apart from the database, privacy/text_originals.py).
    """
    CREATE TABLE voc_originals_audit (
        done_at TIMESTAMPTZ NOT NULL,
        actor   VARCHAR NOT NULL,
        action  VARCHAR NOT NULL,           -- enable | disable | show | purge
        seq     BIGINT,                     -- the event read (show)
        outcome VARCHAR NOT NULL            -- shown | expired | none | the policy set
    );
    """,
    # 14 — voice of the customer, understanding: who called (an identifier key of the event,
    # a pseudonym: the phone first), so that a second call within 7 days is seen.
    """
    ALTER TABLE voc_texts ADD COLUMN caller_key VARCHAR;
    """,
    # 15 — derived for analytics like 3: the profile that owns each event now
    # (store/ownership.py), so that the reports of a page do not each join the log to the
    # identity graph again.
    """
    CREATE TABLE event_owners (
        seq        BIGINT,   -- nullable as Ibis's owners_of types it (they union)
        profile_id VARCHAR
    );
    """,
    # 16 — the highest seq an erasure found before deleting: the log's numbering never goes
    # back below it (`max_seq`), so an erased last event's seq is never given to a new one
    # (the published log's watermark, publish/stage.py, counts it as staged).
    """
    CREATE TABLE seq_floor (max_seq BIGINT NOT NULL);
    """,
)
