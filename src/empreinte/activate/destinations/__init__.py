"""Destinations: segment memberships, chosen traits and events sent to the tools a marketing
team runs (signed webhooks, CSV/Parquet exports, a Segment-compatible forwarder), behind the
consent ledger, through an outbox with retries and a dead-letter queue; erasure reaches them
(docs/destinations.md)."""
