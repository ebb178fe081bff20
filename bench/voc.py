"""Voice of the customer benchmark: redaction + sentiment + topics over generated transcripts.

Not a test: it prints figures. One run:

1. generates `--count` call transcripts (default 100,000) with the demo's generator
   (demo/transcripts.py: FR and EN, six reasons, planted names, cards, IBANs, e-mails…);
2. redaction (privacy/text_pii `redact_turns`, the product) in `--processes` worker processes,
   each warmed once (`warm()`: the spaCy models) before the clock starts; the reference is
   measured in the same run on the same transcripts and processes: the regex-only scans of
   privacy/redaction.py (e-mails, cards, phones) that the log used for comments before;
3. sentiment per conversation (`empreinte.voc.sentiment.conversation`) over the redacted
   transcripts, one process;
4. topics (`empreinte.voc.topics.discover`) over the customer's words of each transcript;
5. prints texts (transcripts) per second for each stage and end to end, the ratio of the
   product's redaction to the reference's, the share of planted personal data that reached
   the redacted text, and the redaction recall/precision on the labelled set of
   bench/redaction.py (or "n/a" where that benchmark is not there).

    .venv/bin/python bench/voc.py [--count 100000] [--processes 2] [--seed 7]

A stage whose module is missing (the understanding lands in its own part) stops the run with
a message naming it; `--skip-understanding` measures the redaction alone.
"""

from __future__ import annotations

import argparse
import importlib
import json
import multiprocessing
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from empreinte.demo.transcripts import Transcript, transcripts

Turns = list[dict[str, Any]]


# ---- worker processes ---------------------------------------------------------------------


def _start_worker(warm: bool, ready: Any) -> None:
    """A worker's start: the models loaded (when `warm`), then wait for all the others."""
    if warm:
        from empreinte.privacy import text_pii

        load = getattr(text_pii, "warm", None)  # the first, regex-only version has no models
        if callable(load):
            load()
    ready.wait()


def _redact_product(job: tuple[Turns, str]) -> Turns:
    from empreinte.privacy.text_pii import redact_turns

    turns, language = job
    return redact_turns(turns, language=language, region="FR" if language == "fr" else "US")


def _redact_reference(job: tuple[Turns, str]) -> Turns:
    from empreinte.privacy.redaction import redact

    turns, language = job
    region = "FR" if language == "fr" else "US"
    return [{**turn, "text": redact(turn["text"], region)} for turn in turns]


def _timed_pool(
    processes: int,
    warm: bool,
    work: Callable[[tuple[Turns, str]], Turns],
    jobs: Sequence[tuple[Turns, str]],
    keep: bool = True,
) -> tuple[float, list[Turns]]:
    """Seconds `processes` warmed workers take over `jobs` (the warm-up is not timed), and
    their results if `keep`."""
    context = multiprocessing.get_context("spawn")  # no model state copied from the parent
    with context.Manager() as manager:
        ready = manager.Barrier(processes + 1)
        with context.Pool(processes, _start_worker, (warm, ready)) as pool:
            ready.wait()  # every worker started and warmed
            started = time.perf_counter()
            out: list[Turns] = []
            for turns in pool.imap(work, jobs, chunksize=64):
                if keep:
                    out.append(turns)
            return time.perf_counter() - started, out


# ---- the understanding stages (voc/sentiment.py, voc/topics.py) --------------------------


def _sentiment(redacted: Sequence[Turns], languages: Sequence[str]) -> float:
    from empreinte.voc.sentiment import conversation

    started = time.perf_counter()
    for turns, language in zip(redacted, languages, strict=True):
        conversation([(t["speaker"], t["text"]) for t in turns], language)
    return time.perf_counter() - started


def _topics(redacted: Sequence[Turns], seed: int) -> tuple[float, int]:
    """NMF fitted as `workspace.voc` fits it (k chosen by coherence, on a sample of at most
    voc/topics.MAX_FIT_TEXTS), then every text assigned its topics."""
    from empreinte.voc.topics import fit

    texts = [" ".join(t["text"] for t in turns if t["speaker"] == "customer") for turns in redacted]
    started = time.perf_counter()
    fitted = fit(texts, seed=seed)
    if fitted is not None:
        fitted.assign(texts)
    return time.perf_counter() - started, fitted.k if fitted is not None else 0


def _recall_precision() -> None:
    """The labelled-set figures of bench/redaction.py (its `report` over its `LABELLED`
    set: recall and precision per kind and language), when that benchmark is there."""
    path = Path(__file__).with_name("redaction.py")
    if not path.exists():
        print("  recall/precision (labelled set): n/a (bench/redaction.py not there)")
        return
    sys.path.insert(0, str(path.parent))
    try:
        module = importlib.import_module("redaction")
    finally:
        sys.path.pop(0)
    report, labelled = getattr(module, "report", None), getattr(module, "LABELLED", None)
    if not callable(report) or labelled is None:
        print("  recall/precision (labelled set): n/a (no report/LABELLED in bench/redaction.py)")
        return
    lines = Path(labelled).read_text(encoding="utf-8").splitlines()
    report("recall/precision: bench/redaction.py's labelled set", [json.loads(x) for x in lines])


# ---- the run ------------------------------------------------------------------------------


def _leaked(calls: Sequence[Transcript], redacted: Sequence[Turns]) -> dict[str, list[int]]:
    """Per kind, [planted spans, spans still readable in the redacted text]: a card said over
    two turns counts as readable when either half is still there."""
    counts: dict[str, list[int]] = {}
    for call, turns in zip(calls, redacted, strict=True):
        text = " ".join(t["text"] for t in turns)
        for item in call.planted:
            count = counts.setdefault(item.kind, [0, 0])
            count[0] += 1
            count[1] += any(part.strip() in text for part in item.said.split("|"))
    return counts


def _rate(seconds: float, count: int) -> str:
    return f"{seconds:8.1f} s  {count / max(seconds, 1e-9):10,.0f} texts/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="transcripts to generate")
    parser.add_argument("--processes", type=int, default=2, help="redaction workers")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-understanding", action="store_true")
    args = parser.parse_args()
    if args.count < 1 or args.processes < 1:
        raise SystemExit("bench/voc.py: --count and --processes must be at least 1")

    started = time.perf_counter()
    calls = [call for _, call in transcripts(args.count, seed=args.seed)]
    generated = time.perf_counter() - started
    jobs = [(call.turns, call.language) for call in calls]
    turns = sum(len(call.turns) for call in calls)
    chars = sum(len(t["text"]) for call in calls for t in call.turns)
    print(f"{args.count:,} transcripts generated in {generated:.1f} s")
    print(f"  {turns:,} turns, {chars / 1e6:.1f} M characters, {args.processes} processes")

    reference_s, _ = _timed_pool(args.processes, False, _redact_reference, jobs, keep=False)
    product_s, redacted = _timed_pool(args.processes, True, _redact_product, jobs)
    leaks = _leaked(calls, redacted)
    print(f"redaction (text_pii)      {_rate(product_s, args.count)}")
    print(
        f"reference (regex only)    {reference_s:8.1f} s  {args.count / reference_s:10,.0f} "
        f"texts/s  → the product takes {product_s / reference_s:.1f}x the reference"
    )
    planted, leaked = (sum(c[i] for c in leaks.values()) for i in (0, 1))
    by_kind = ", ".join(f"{kind} {c[1]}/{c[0]}" for kind, c in sorted(leaks.items()))
    print(f"  planted spans still readable: {leaked:,} of {planted:,} ({by_kind})")
    total = product_s
    if not args.skip_understanding:
        languages = [call.language for call in calls]
        sentiment_s = _sentiment(redacted, languages)
        topics_s, found = _topics(redacted, args.seed)
        total += sentiment_s + topics_s
        print(f"sentiment (conversation)  {_rate(sentiment_s, args.count)}")
        print(f"topics (NMF fit + assign) {_rate(topics_s, args.count)}")
        print(f"  topics found: {found}")
    label = "redaction alone" if args.skip_understanding else "end to end"
    print(f"{label:<26}{_rate(total, args.count)}")
    _recall_precision()


if __name__ == "__main__":
    main()
