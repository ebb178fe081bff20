"""The Segment HTTP Tracking API limits, honoured exactly."""

from __future__ import annotations

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_MESSAGES = 2_500
MAX_ID_LENGTH = 1_024
# A conversation imported from a file (`import --kind transcripts`) may be longer than a
# message the collector takes: an hour's call is some 50 KB of text. Bounded still.
MAX_TRANSCRIPT_BYTES = 1024 * 1024
