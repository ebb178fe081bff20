"""Destinations benchmark: one round of a webhook and of a CSV export on the demo, against the
segment refresh it rests on.

Not a test: it prints figures. On a copy of a demo workspace (`make demo`, or
`empreinte demo --no-serve --dir DIR`), with a local receiver on a free port that accepts
everything:

1. saves a segment of every buyer (`did("Order Completed")`) and times that (the reference:
   what computing an audience costs);
2. adds a webhook over it (purpose `marketing_email`, trait `country`) and times its first
   round: queueing every member who allows marketing e-mails (an `identify` and an
   "Audience Entered" each), asking consent again, signing and sending them in batches;
3. times a second round, when nothing changed (the cost of an idle round, every
   `interval_seconds` in the server);
4. adds a CSV export over the segment and times its first round (the file written).

    .venv/bin/python bench/destinations.py [--workspace demo-workspace]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import empreinte


class _Accept(BaseHTTPRequestHandler):
    received = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="demo-workspace", type=Path)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-destinations-"))
    try:
        ws_path = scratch / "ws"
        shutil.copytree(args.workspace, ws_path)
        with (ws_path / "empreinte.toml").open("a") as config:
            config.write("\n[destinations]\nallow_private_networks = true\n")
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Accept)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        with empreinte.open(ws_path) as ws:
            ws.identity.sync()
            start = time.perf_counter()
            ws.segments.create("bench-buyers", 'did("Order Completed")')
            refresh = time.perf_counter() - start
            members = ws.segments.size("bench-buyers")
            ws.destinations.add(
                "bench-hook",
                "webhook",
                url=f"http://127.0.0.1:{server.server_port}/hook",
                purpose="marketing_email",
                segments=["bench-buyers"],
                traits=["country"],
            )
            start = time.perf_counter()
            [first] = ws.destinations.sync("bench-hook")
            first_round = time.perf_counter() - start
            start = time.perf_counter()
            [idle] = ws.destinations.sync("bench-hook")
            idle_round = time.perf_counter() - start
            ws.destinations.add(
                "bench-csv",
                "csv",
                directory="bench",
                purpose="marketing_email",
                segments=["bench-buyers"],
                traits=["country"],
            )
            start = time.perf_counter()
            ws.destinations.sync("bench-csv")
            export_round = time.perf_counter() - start
        server.shutdown()
        print(f"segment of {members} buyers saved in {refresh:.2f} s (the reference)")
        print(
            f"webhook, first round: {first.sent} messages queued, checked and sent in "
            f"{_Accept.received} requests, {first_round:.2f} s "
            f"({first.sent / first_round:,.0f} messages/s; {first_round / refresh:.2f}× the "
            "segment's refresh)"
        )
        print(f"webhook, idle round: {idle_round * 1000:.0f} ms ({idle.queued} queued)")
        print(
            f"CSV export, first round: {export_round:.2f} s ({export_round / refresh:.2f}× refresh)"
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
