"""The published Parquet log (docs/publish.md): collectors stage what they committed, one
publisher at a time moves it, deduplicated, into partitioned files a manifest lists."""
