"""The journey: every touchpoint of a profile on every channel, in order (touchpoints.py), and
what is measured on it — funnels, paths, retention, omnichannel behaviour, ROPO, friction and
attribution. Everything is an Ibis expression over `AnalyticsLog`, so it runs unchanged on
DuckDB and on Spark."""
