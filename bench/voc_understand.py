"""Voice-of-the-customer understanding benchmark: texts per second of each analysis, and the
accuracy of sentiment and reasons on the labelled sets, against a reference measured in the
same run.

Not a test: it prints figures. One run:

1. builds `--texts` customer texts (default 20,000) from the sentences of the labelled sets
   (tests/voc/*.tsv), two or three sentences each, French and English, seeded;
2. times, after a warm-up, the *reference* — reading every text's words (voc/text.words: the
   one pass any analysis makes) — then sentiment (VADER per text), reasons (rules, then the
   model in one batch), topics (NMF fit with k chosen by coherence over 4..12, then every text
   given its topics), and the whole `workspace.voc.refresh()` over `--calls` calls of six
   turns written to a fresh workspace (reading the log, all analyses, writing the tables);
3. prints texts per second and the ratio of each to the reference, then the accuracy of
   sentiment (per language) and of reasons (rules+model, model alone) on the held-out set.

    .venv/bin/python bench/voc_understand.py [--texts 20000] [--calls 5000]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LABELLED = ROOT / "tests" / "voc"

import empreinte  # noqa: E402
from empreinte.voc import sentiment, topics  # noqa: E402
from empreinte.voc.reasons import ReasonClassifier  # noqa: E402
from empreinte.voc.settings import VocSettings  # noqa: E402
from empreinte.voc.text import words  # noqa: E402


def _rows(name: str) -> list[list[str]]:
    lines = (LABELLED / name).read_text("utf-8").splitlines()
    return [line.split("\t", 2) for line in lines if line and not line.startswith("#")]


def generate(n: int, seed: int = 16) -> list[tuple[str, str]]:
    """(language, text) of `n` customer texts, two or three labelled sentences each."""
    rnd = random.Random(seed)
    by_language: dict[str, list[str]] = {"fr": [], "en": []}
    for language, _, text in _rows("sentiment_labelled.tsv"):
        by_language[language].append(text)
    for _, language, text in _rows("reasons_labelled.tsv"):
        by_language[language].append(text)
    out = []
    for _ in range(n):
        language = rnd.choice(("fr", "en"))
        out.append((language, " ".join(rnd.sample(by_language[language], rnd.choice((2, 3))))))
    return out


def timed(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def refresh_rate(calls: int, texts: list[tuple[str, str]]) -> tuple[float, int]:
    with tempfile.TemporaryDirectory(prefix="voc-bench-") as folder:
        ws = empreinte.open(Path(folder) / "ws")
        try:
            t0 = datetime(2026, 1, 5, tzinfo=UTC)
            rows = []
            for i in range(calls):
                language, text = texts[i % len(texts)]
                turns = []
                for j, sentence in enumerate([*text.split(". ")[:3], "Merci", "Bonjour"][:6]):
                    speaker = "customer" if j % 2 == 0 else "agent"
                    turns.append(
                        {"speaker": speaker, "text": sentence, "start": j * 5, "end": j * 5 + 4}
                    )
                rows.append(
                    {
                        "type": "track",
                        "event": "Call Completed",
                        "userId": f"caller-{i % (calls // 3 + 1)}",
                        "timestamp": (t0 + timedelta(minutes=37 * i)).isoformat(),
                        "context": {"channel": "phone"},
                        "properties": {
                            "transcript": turns,
                            "language": language,
                            "agent_id": f"agent-{i % 20}",
                            "duration": 35,
                        },
                    }
                )
            report = ws.ingest(rows, source="bench")
            assert not report.rejected, report.rejected[:3]
            ws.flush()
            seconds = timed(lambda: ws.voc.refresh())
            return seconds, ws.voc.count()
        finally:
            ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--calls", type=int, default=5_000)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    texts = generate(args.texts)
    plain = [t for _, t in texts]
    classifier = ReasonClassifier(VocSettings())
    # Warm-up: the analysers, the trained model, the libraries' imports.
    sentiment.score("warm up", "fr"), sentiment.score("warm up", "en")
    classifier.classify_many(plain[:50])
    topics.fit(plain[:200], k=4)

    n = len(texts)
    reference = timed(lambda: [words(t) for t in plain])
    results = {
        "reference: the words of every text": reference,
        "sentiment (VADER fr/en)": timed(lambda: [sentiment.score(t, lang) for lang, t in texts]),
        "reasons (rules, then the model)": timed(lambda: classifier.classify_many(plain)),
    }
    fitted: list[Any] = []
    results["topics: NMF fit, k by coherence 4..12"] = timed(
        lambda: fitted.append(topics.fit(plain))
    )
    results["topics: every text given its topics"] = timed(lambda: fitted[0].assign(plain))
    print(f"{n:,} texts ({sum(len(t) for t in plain) / n:.0f} characters on average)")
    print(f"{'step':<42} {'seconds':>8} {'texts/s':>10} {'× reference':>12}")
    for name, seconds in results.items():
        ratio = seconds / reference
        print(f"{name:<42} {seconds:>8.2f} {n / seconds:>10,.0f} {ratio:>12.1f}")
    print(f"topics found: k = {fitted[0].k}, mean NPMI {fitted[0].coherence:.3f}")

    seconds, analysed = refresh_rate(args.calls, texts)
    print(
        f"workspace.voc.refresh() on {args.calls:,} calls of 6 turns: {seconds:.2f} s, "
        f"{analysed / seconds:,.0f} calls/s ({analysed:,} analysed)"
    )

    print("\naccuracy on the hand-labelled sets (tests/voc/*.tsv)")
    for language in ("fr", "en"):
        rows = [r for r in _rows("sentiment_labelled.tsv") if r[0] == language]
        right = sum(sentiment.label(sentiment.score(t, lang)) == lab for lang, lab, t in rows)
        print(f"  sentiment ({language}): {right / len(rows):.3f} of {len(rows)} sentences")
    held = _rows("reasons_labelled.tsv")
    found = classifier.classify_many([t for *_, t in held])
    alone = classifier.model_many([t for *_, t in held])
    both = sum(f.reason == r for f, (r, _, _) in zip(found, held, strict=True)) / len(held)
    model = sum(m.reason == r for m, (r, _, _) in zip(alone, held, strict=True)) / len(held)
    ruled = sum(f.by == "rule" for f in found)
    print(f"  reasons: rules+model {both:.3f}, model alone {model:.3f} of {len(held)} held out "
          f"({ruled} decided by a rule)")  # fmt: skip


if __name__ == "__main__":
    main()
