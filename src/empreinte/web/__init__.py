"""The HTTP surface: the collector's routes, the admin/read API, and (later) the dashboard."""
