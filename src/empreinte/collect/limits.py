"""The Segment HTTP Tracking API limits, honoured exactly."""

from __future__ import annotations

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_MESSAGES = 2_500
MAX_ID_LENGTH = 1_024
