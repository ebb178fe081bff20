"""VoC ingest benchmark: what redaction at the door costs the collector.

Not a test: it prints figures. One run sends, to the real server (`empreinte serve`, a
subprocess with `--workers` validation processes), the same `Call Completed` messages twice:

1. **without transcripts** (the reference): each call's queue, agent, duration, caller number;
2. **with a 10-turn transcript** (French and English, some turns with a card number, a phone
   number, an e-mail), each turn checked and redacted, its language detected.

Both from concurrent keep-alive clients posting batches to /v1/batch (a 200: durably
committed); each after a warm-up batch (so the redaction models' loading is not counted). It
prints messages/s and turns/s for each and the ratio with/without, and the same for
`normalise()` alone in this process (no HTTP, no storage).

    .venv/bin/python bench/voc_ingest.py [--calls 4000] [--batch 50] [--clients 4] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson

import empreinte
from empreinte.collect.validate import normalise, now_micros
from empreinte.privacy.pii import IngestPolicy
from empreinte.privacy.pseudonym import Pseudonymiser

VENV_BIN = Path(sys.executable).parent
TURNS = 10
_FR = [
    "Bonjour, je vous appelle au sujet de ma commande qui n'est toujours pas arrivée.",
    "Je comprends, pouvez-vous me donner votre numéro de commande ?",
    "Oui, c'est la commande 48213, passée la semaine dernière sur le site.",
    "Ma carte {card} a été débitée deux fois, je voudrais un remboursement.",
    "Vous pouvez me rappeler au {phone} ou m'écrire à {email}.",
    "Je regarde cela tout de suite, merci de patienter un instant.",
]
_EN = [
    "Hi, I'm calling because my parcel never arrived and the tracking page is stuck.",
    "I'm sorry to hear that, could you give me your order number please?",
    "Sure, it's 77120, I ordered it on the website last Tuesday.",
    "My card {card} was charged twice and I'd like a refund.",
    "You can call me back on {phone} or email {email}.",
    "Let me check that for you right away, thank you for waiting.",
]


def luhn(prefix: str) -> str:
    total = 0
    for index, char in enumerate(reversed(prefix)):
        digit = int(char) * (2 if index % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return prefix + str((10 - total % 10) % 10)


def calls(count: int, seed: int, transcripts: bool) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        lines = _FR if n % 2 == 0 else _EN
        card = luhn(f"4970{rng.randrange(10**11):011d}")
        fill = {
            "card": " ".join(card[i : i + 4] for i in range(0, 16, 4)),
            "phone": f"06 {rng.randrange(10**8):08d}"[:5] + " 12 34 56",
            "email": f"client{n}@example.com",
        }
        properties: dict[str, Any] = {
            "queue": rng.choice(["billing", "delivery", "returns"]),
            "agent_id": f"agent-{rng.randrange(40)}",
            "duration": 60 + rng.randrange(600),
            "caller_number": f"+33 6 {rng.randrange(10**8):08d}",
        }
        if transcripts:
            properties["transcript"] = [
                {
                    "speaker": "customer" if t % 2 == 0 else "agent",
                    "text": rng.choice(lines).format(**fill),
                    "start": t * 6.0,
                    "end": t * 6.0 + 5.5,
                }
                for t in range(TURNS)
            ]
        out.append(
            {
                "type": "track",
                "event": "Call Completed",
                "anonymousId": f"ivr-{n}",
                "messageId": f"bench-{seed}-{int(transcripts)}-{n}",
                "timestamp": "2026-11-02T10:00:00Z",
                "properties": properties,
            }
        )
    return out


def normalise_rate(messages: list[dict[str, Any]]) -> float:
    policy = IngestPolicy(Pseudonymiser(b"b" * 32))
    normalise(messages[0], source="bench", received_at=now_micros(), policy=policy)  # warm
    started = time.perf_counter()
    for message in messages:
        normalise(message, source="bench", received_at=now_micros(), policy=policy)
    return len(messages) / (time.perf_counter() - started)


def start_server(root: Path, workers: int) -> tuple[subprocess.Popen[bytes], str, str]:
    with empreinte.open(root / "ws") as ws:
        key = ws.credentials.create_write_key("bench")
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [
            *(str(VENV_BIN / "empreinte"), "serve", "-w", str(root / "ws")),
            *("--port", str(port), "--workers", str(workers)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    return proc, url, key


def send(url: str, key: str, messages: list[dict[str, Any]], batch: int, clients: int) -> float:
    bodies = [
        orjson.dumps({"batch": messages[i : i + batch]}) for i in range(0, len(messages), batch)
    ]

    def post_all(part: list[bytes]) -> None:
        with httpx.Client(base_url=url, auth=(key, ""), timeout=120) as http:
            for body in part:
                answer = http.post(
                    "/v1/batch", content=body, headers={"Content-Type": "application/json"}
                )
                while answer.status_code in (429, 503):
                    time.sleep(float(answer.headers.get("Retry-After", "1")))
                    answer = http.post(
                        "/v1/batch", content=body, headers={"Content-Type": "application/json"}
                    )
                assert answer.status_code == 200, answer.text
                assert answer.json()["stored"] == len(orjson.loads(body)["batch"]), answer.text

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(post_all, [bodies[i::clients] for i in range(clients)]))
    return len(messages) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=4_000)
    parser.add_argument("--batch", type=int, default=50, help="messages per request")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="the server's workers")
    args = parser.parse_args()

    plain, spoken = calls(args.calls, 1, False), calls(args.calls, 1, True)
    size = len(orjson.dumps(spoken[0]))
    print(f"{args.calls} calls of {TURNS} turns (~{size} bytes each); {os.cpu_count()} cores")
    base = normalise_rate(plain[:2000])
    redacted = normalise_rate(spoken[:2000])
    print(
        f"normalise() alone: {base:,.0f} msg/s without transcripts, {redacted:,.0f} msg/s "
        f"with ({redacted * TURNS:,.0f} turns/s): ratio {redacted / base:.3f}"
    )

    root = Path(tempfile.mkdtemp(prefix="voc-bench-"))
    proc, url, key = start_server(root, args.workers)
    try:
        send(url, key, calls(args.batch * 2, 9, True), args.batch, 1)  # warm-up: models loaded
        without = send(url, key, plain, args.batch, args.clients)
        with_ = send(url, key, spoken, args.batch, args.clients)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"collector (serve --workers {args.workers}, {args.clients} clients, batches of "
        f"{args.batch}): {without:,.0f} msg/s without transcripts, {with_:,.0f} msg/s with "
        f"({with_ * TURNS:,.0f} turns/s): ratio {with_ / without:.3f}"
    )


if __name__ == "__main__":
    main()
