"""The embedded DuckDB engine and everything that knows DuckDB: no module outside this package
imports duckdb."""
