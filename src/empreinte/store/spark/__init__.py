"""Analytics on Apache Spark (the `[spark]` extra): the workspace's tables exported to Parquet,
read by a Spark session through Ibis' PySpark backend."""
