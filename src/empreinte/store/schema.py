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
)
