"""Publication benchmark: two collectors' logs staged and published to the Parquet log.

Not a test: it prints figures. Two workspaces (sharing a pseudonymisation key) each ingest
`--events` Segment messages, `--overlap` of them the same messages in both (a client's retries
through a load balancer). Then, `--repeat` times on a fresh published log (a local directory):

1. staging: each collector's committed events after its watermark → staged segments;
2. publication: every staged segment, deduplicated by (source, messageId) against the horizon
   and within the batch, → one file per hour of arrival → a manifest version;

and, as the reference in the same run, the same rows (both collectors' log slices, read once)
written by plain `pyarrow.parquet.write_table` to one file with the same compression: what
writing Parquet costs without the watermark, the dedup, the partitioning and the manifest.
Prints rows/s of each step, the ratio of stage + publish to the reference (medians) and the
load average.

With `--s3`, each repeat also stages and publishes the same logs to `s3://` on moto's S3
server (a real HTTP server on loopback, in this process: `moto[server]`, a dev dependency),
and prints that against the local directory of the same repeat: what the S3 API's requests
cost through s3fs. Moto is not AWS (no network latency, objects in memory, one Python
process serving them): read it as the client's overhead, not as AWS's speed.

    flock /tmp/bench.lock .venv/bin/python bench/publish.py [--events 200000] [--repeat 3] [--s3]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import empreinte
from empreinte.publish.log import PublishedLog, with_collector
from empreinte.publish.publisher import Publisher
from empreinte.publish.stage import stage


def messages(n: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "track",
            "event": "Product Viewed",
            "userId": f"user-{i % 5000}",
            "anonymousId": f"anon-{i % 7000}",
            "messageId": f"{prefix}-{uuid.uuid4()}",
            "properties": {"product_id": f"sku-{i % 300}", "price": i % 97, "currency": "EUR"},
            "context": {
                "page": {"url": f"https://shop.example/p/{i % 300}"},
                "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
                "ip": "192.0.2.1",
            },
        }
        for i in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="per collector")
    parser.add_argument("--overlap", type=float, default=0.1, help="share sent to both")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--s3", action="store_true", help="also to moto's S3 server")
    args = parser.parse_args()
    bucket = start_moto() if args.s3 else None

    root = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    try:
        key = secrets.token_bytes(32)
        shared = messages(int(args.events * args.overlap), "both")
        workspaces = []
        start = time.perf_counter()
        for name in ("a", "b"):
            directory = root / name
            directory.mkdir()
            (directory / "pseudonym.key").write_bytes(key)
            ws = empreinte.open(directory)
            ws.ingest(messages(args.events - len(shared), name) + shared)
            ws.flush()
            workspaces.append((name, ws))
        print(f"ingested 2 × {args.events:,} events in {time.perf_counter() - start:.1f} s")

        stage_s, publish_s, reference_s, s3_s = [], [], [], []
        total = published = 0
        for run in range(args.repeat):
            url = str(root / f"published-{run}")
            log = PublishedLog(url)
            start = time.perf_counter()
            for name, ws in workspaces:
                stage(ws.engine, log, name)
            stage_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            report = Publisher(log).publish()
            publish_s.append(time.perf_counter() - start)
            published = report.rows
            assert report.duplicates == len(shared), report

            # The reference: the same rows, read from the logs beforehand, one plain write.
            slices = [
                with_collector(ws.engine.log_slice(0, 10**9), name) for name, ws in workspaces
            ]
            table = pa.concat_tables(slices)
            total = table.num_rows
            start = time.perf_counter()
            pq.write_table(table, root / f"reference-{run}.parquet", compression="zstd")
            reference_s.append(time.perf_counter() - start)
            shutil.rmtree(url)
            if bucket is not None:
                log = PublishedLog(f"s3://{bucket}/published-{run}")
                start = time.perf_counter()
                for name, ws in workspaces:
                    stage(ws.engine, log, name)
                assert Publisher(log).publish().rows == published
                s3_s.append(time.perf_counter() - start)

        stage_m, publish_m, reference_m = (
            statistics.median(x) for x in (stage_s, publish_s, reference_s)
        )
        print(f"rows: {total:,} staged, {published:,} published ({len(shared):,} duplicates)")
        print(f"stage:     {total / stage_m:>12,.0f} rows/s  (median of {args.repeat})")
        print(f"publish:   {total / publish_m:>12,.0f} rows/s")
        both = stage_m + publish_m
        print(f"stage + publish: {total / both:,.0f} rows/s")
        print(f"reference: {total / reference_m:>12,.0f} rows/s  (pyarrow.parquet.write_table)")
        print(f"ratio (stage + publish) / reference: {both / reference_m:.1f}×")
        if s3_s:
            s3_m = statistics.median(s3_s)
            print(f"s3 (moto): {total / s3_m:>12,.0f} rows/s  (stage + publish)")
            print(f"ratio s3 (moto) / local directory: {s3_m / both:.2f}×")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for _, ws in workspaces:
            ws.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def start_moto() -> str:
    """Moto's S3 server on a free loopback port, reached through the standard environment;
    a new bucket's name."""
    import logging
    import socket

    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
    )
    bucket = f"bench-{secrets.token_hex(4)}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return bucket


if __name__ == "__main__":
    main()
