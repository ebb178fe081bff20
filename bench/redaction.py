"""Redaction benchmark: recall and precision per kind and language on the labelled set, and
throughput on call transcripts.

Not a test: it prints figures. One run:

1. redacts the labelled set (tests/privacy/text_pii/labelled.jsonl: French and English
   sentences, written and spoken, with planted personal data and sentences without any) and
   prints, per kind and language, the spans planted, recall, precision and leaks (planted
   characters left in clear; evaluation.py says how each is counted);
2. builds `--transcripts` call transcripts of 10 turns (seeded: agent lines, and customer lines
   drawn from the labelled set, so about half the turns carry personal data) and times, best of
   `--repeat`: `redact_turns` one transcript at a time (as the collector calls it), `redact_many`
   over all the turns, `redact_text` one turn at a time; and, as the reference measured in the
   same run on the same turns, the first, regex-only version (e-mails, Luhn cards and phone
   numbers by privacy/redaction.py's linear scans, no model);
3. prints texts (turns) per second, transcripts per second and each one's ratio to the
   reference.

    .venv/bin/python bench/redaction.py [--transcripts 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from empreinte.privacy.redaction import _card_spans, _email_spans, _phone_spans
from empreinte.privacy.text_pii import redact_many, redact_text, redact_turns, warm
from empreinte.privacy.text_pii.evaluation import Counts, read_marked, score

LABELLED = Path(__file__).resolve().parents[1] / "tests/privacy/text_pii/labelled.jsonl"
HOLDOUT = LABELLED.with_name("holdout.txt")
AGENT = {
    "fr": ["Bonjour, service client, que puis-je pour vous ?", "D'accord, je regarde ça.",
           "Pouvez-vous me confirmer votre identité ?", "Je vois votre commande, un instant.",
           "Très bien, je note.", "Je suis désolé pour ce désagrément.",
           "Je vous envoie un e-mail de confirmation.", "Autre chose pour vous ?"],
    "en": ["Hello, customer service, how can I help?", "Okay, let me have a look.",
           "Can you confirm your details please?", "I can see your order, one moment.",
           "Right, I've noted that.", "I'm sorry about that.",
           "I'll send you a confirmation email.", "Anything else I can help with?"],
}  # fmt: skip


def first_version(text: str, region: str = "FR") -> str:
    """The regex-only text_pii of the first version on main: e-mails, Luhn cards, phones."""
    spans = [(a, b, "<EMAIL>") for a, b in _email_spans(text)]
    spans += [(a, b, "<CARD>") for a, b in _card_spans(text)]
    spans += [(a, b, "<PHONE>") for a, b in _phone_spans(text, region)]
    out, done = [], 0
    for a, b, placeholder in sorted(spans):
        if a >= done:
            out += (text[done:a], placeholder)
            done = b
    return "".join(out) + text[done:]


def transcripts(rows: list[dict[str, Any]], n: int, seed: int) -> list[list[dict[str, Any]]]:
    rng = random.Random(seed)
    by_lang = {lang: [r["text"] for r in rows if r["lang"] == lang] for lang in AGENT}
    out = []
    for _ in range(n):
        lang = rng.choice(("fr", "en"))
        turns, at = [], 0.0
        for i in range(10):
            speaker = "agent" if i % 2 == 0 else "customer"
            text = rng.choice(AGENT[lang]) if speaker == "agent" else rng.choice(by_lang[lang])
            turns.append({"speaker": speaker, "text": text, "start": at, "end": at + 4.0})
            at += 4.5
        out.append(turns)
    return out


def best(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def report(title: str, rows: list[dict[str, Any]]) -> None:
    """Recall, precision and leaks per kind and language, then per kind."""
    results = redact_many([row["text"] for row in rows])
    counts = score(rows, results)
    print(f"\n{title}: {len(rows)} sentences "
          f"({sum(r['style'] == 'none' for r in rows)} without personal data)")  # fmt: skip
    print(f"{'kind':<8} {'lang':<4} {'planted':>7} {'recall':>7} {'found':>6} "
          f"{'precision':>9} {'leaks':>5}")  # fmt: skip
    totals: dict[str, Counts] = {}
    for (kind, lang), c in sorted(counts.items()):
        print(f"{kind:<8} {lang:<4} {c.planted:>7} {c.recall:>7.1%} {c.found:>6} "
              f"{c.precision:>9.1%} {c.leaked:>5}")  # fmt: skip
        t = totals.setdefault(kind, Counts())
        t.planted, t.recalled, t.leaked = (
            t.planted + c.planted,
            t.recalled + c.recalled,
            (t.leaked + c.leaked),
        )
        t.found, t.right = t.found + c.found, t.right + c.right
    for kind, t in sorted(totals.items()):
        print(f"{kind:<8} {'all':<4} {t.planted:>7} {t.recall:>7.1%} {t.found:>6} "
              f"{t.precision:>9.1%} {t.leaked:>5}")  # fmt: skip
    untouched = sum(
        r["style"] == "none" and res.text == r["text"] for r, res in zip(rows, results, strict=True)
    )
    print(f"sentences without personal data kept whole: {untouched}/"
          f"{sum(r['style'] == 'none' for r in rows)}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transcripts", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()

    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    start = time.perf_counter()
    warm()
    print(f"models loaded in {time.perf_counter() - start:.1f} s")

    report("labelled set (generated; the recognisers were tuned on it)", rows)
    holdout = read_marked(HOLDOUT.read_text(encoding="utf-8").splitlines())
    report("held-out set (hand-written, never tuned on)", holdout)

    calls = transcripts(rows, args.transcripts, args.seed)
    texts = [t["text"] for turns in calls for t in turns]
    chars = sum(len(t) for t in texts)
    print(f"\nthroughput: {len(calls)} transcripts of 10 turns ({len(texts)} texts, "
          f"{chars / len(texts):.0f} characters a turn), best of {args.repeat}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    reference = best(lambda: [first_version(t) for t in texts], args.repeat)
    timings = {
        "first version (regex only, reference)": reference,
        "redact_turns, one transcript a call": best(
            lambda: [redact_turns(turns) for turns in calls], args.repeat
        ),
        "redact_many, all turns at once": best(lambda: redact_many(texts), args.repeat),
        "redact_text, one turn a call": best(lambda: [redact_text(t) for t in texts], 1),
    }
    print(f"{'':<40} {'texts/s':>9} {'calls/s':>9} {'× reference time':>17}")
    for name, seconds in timings.items():
        print(f"{name:<40} {len(texts) / seconds:>9.0f} {len(calls) / seconds:>9.1f} "
              f"{seconds / reference:>17.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
