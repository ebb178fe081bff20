"""Saved segments: definitions, membership computed from the log, history, schedules
(`workspace.segments`, service.py)."""
