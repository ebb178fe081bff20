"""The validator's cost per event, its mypyc-compiled form against its Python source.

Not a test: it prints figures. The collector's hot modules (`MODULES`, or `--modules`) are
compiled with mypyc (the project's own mypy ships it) in a copy of src/ in a temporary
directory; the source tree is left as it is. The work is the collector's before the writer,
as a validation worker does it (bench/ingest.py's "parse + validate + Arrow"): parse a
500-event batch body (with the exact-integer check), validate and pseudonymise each message,
encode the rows as Arrow, on bench/ingest.py's own demo events. Each form runs in its own
interpreter (the copy or src/ first on its path), alternately, so both see the same machine:

1. CPU µs per event, best of 5 passes after a warm one, `--rounds` times each (medians);
2. with `--callgrind`: instructions per event counted by valgrind (deterministic, unlike CPU
   time on a shared machine) over two passes after a warm one, switched on for those passes
   only (`callgrind_control`), so that start-up and imports are not counted.

Events carrying texts (calls, chats, reviews: some 1.4 % of the demo's) spend milliseconds each
in the text redaction's models, which are not compiled: by default they are left out, so that
the figures are those of the code compiled; `--with-texts` keeps them (not with `--callgrind`).

    .venv/bin/python bench/validate_cost.py [--events 20000] [--rounds 3] [--with-texts]
                                            [--callgrind [--callgrind-events 1000]]
                                            [--modules empreinte.collect.validate,...]
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
TEXT_EVENTS = frozenset({"Call Completed", "Chat Completed", "Review Submitted"})
SRC = HERE.parent / "src"
# Parse, validate, split personal data: the Python a validation worker runs per event (found
# with cProfile; the rest is orjson, Arrow and hmac, in C already).
MODULES = (
    "empreinte.collect.validate",
    "empreinte.collect.exact_json",
    "empreinte.collect.clock",
    "empreinte.collect.channels",
    "empreinte.privacy.pii",
    "empreinte.privacy.pseudonym",
)
FORMS = ("compiled", "pure")


def compile_copy(modules: list[str], root: Path) -> Path:
    """A copy of src/ in `root` with `modules` compiled by mypyc beside their sources."""
    from mypyc.build import mypycify
    from setuptools import Distribution

    copy = root / "src"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    paths = [str(Path(*name.split(".")).with_suffix(".py")) for name in modules]
    previous = Path.cwd()
    os.chdir(copy)  # mypyc names modules from paths relative to the source root
    try:
        config = ["--config-file", str(SRC.parent / "pyproject.toml")]
        cache = ["--cache-dir", str(SRC.parent / ".mypy_cache" / "mypyc")]
        extensions = mypycify([*config, *cache, *paths], opt_level="3", target_dir="build")
        distribution = Distribution({"name": "bench-compiled", "ext_modules": extensions})
        command = distribution.get_command_obj("build_ext")
        command.inplace = True
        distribution.run_command("build_ext")
    finally:
        os.chdir(previous)
    return copy


def write_bodies(events: int, with_texts: bool, path: Path) -> int:
    """bench/ingest.py's batch bodies, to a file the measured interpreters read (so that
    the demo generator does not run under valgrind); the number of events."""
    import orjson

    sys.path.insert(0, str(HERE))
    from ingest import demo_messages, now_iso

    messages = demo_messages(events, seed=1)
    if not with_texts:
        messages = [m for m in messages if m.get("event") not in TEXT_EVENTS]
    bodies = [
        orjson.dumps({"batch": messages[i : i + 500], "sentAt": now_iso()})
        for i in range(0, len(messages), 500)
    ]
    path.write_bytes(pickle.dumps(bodies))
    return len(messages)


def child(bodies_path: Path, passes: int, count_instructions: bool) -> None:
    """In the measured interpreter: a warm pass, then `passes` more; prints the form in use,
    then the best pass's CPU µs per event (under callgrind: instructions are counted during
    those passes only, switched on and off with callgrind_control)."""
    import empreinte.collect.validate

    # Imported here, after this interpreter's path was set: the form measured (compiled or
    # not) is the one `ingest` imports too.
    sys.path.insert(0, str(HERE))
    from ingest import collector_pass

    bodies: list[bytes] = pickle.loads(bodies_path.read_bytes())
    count = sum(len(orjson.loads(body)["batch"]) for body in bodies)
    one_pass = collector_pass(bodies)

    def instrument(on: bool) -> None:
        if count_instructions:
            switch = ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())]
            subprocess.run(switch, check=True, capture_output=True)

    one_pass()
    instrument(True)
    times = [one_pass() for _ in range(passes)]
    instrument(False)
    compiled = empreinte.collect.validate.__file__.endswith(".so")
    print("compiled (mypyc)" if compiled else "pure Python")
    print(min(times) / count * 1e6)


def _run(source: Path, bodies: Path, passes: int, valgrind: list[str] | None = None) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(source)}
    command = [*(valgrind or []), sys.executable, __file__, "--child", str(bodies), str(passes)]
    if valgrind:
        command.append("--count")
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return out.stdout.split("\n")


def _instructions(source: Path, bodies: Path, passes: int) -> tuple[int, str]:
    out = bodies.with_name(f"callgrind-{source.parent.name}.out")
    valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
    lines = _run(source, bodies, passes, [*valgrind, f"--callgrind-out-file={out}"])
    totals = (line for line in out.read_text().splitlines() if line.startswith("totals:"))
    return int(next(totals).split()[1]), lines[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--with-texts", action="store_true")
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--callgrind-events", type=int, default=1_000)
    parser.add_argument("--modules", default=",".join(MODULES), help="modules to compile")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--count", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), int(args.child[1]), args.count)
        return
    if args.callgrind and args.with_texts:
        raise SystemExit("--callgrind runs without the texts (their models under valgrind)")

    print(f"load average at start: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="empreinte-validate-cost-") as tmp:
        started = time.perf_counter()
        compiled = compile_copy(args.modules.split(","), Path(tmp) / "compiled")
        print(f"compiled {args.modules} with mypyc in {time.perf_counter() - started:.0f} s")
        sources = {"compiled": compiled, "pure": SRC}
        bodies = Path(tmp) / "bodies.pickle"
        count = write_bodies(args.events, args.with_texts, bodies)
        texts = "with" if args.with_texts else "without"
        print(f"{count:,} demo events {texts} texts, in 500-event bodies")
        figures: dict[str, list[float]] = {form: [] for form in FORMS}
        for _ in range(args.rounds):
            for form in FORMS:
                lines = _run(sources[form], bodies, 5)
                figures[form].append(float(lines[1]))
                print(f"  {lines[0]:<66} {float(lines[1]):6.1f} µs per event")
        median = {form: statistics.median(values) for form, values in figures.items()}
        print(
            f"CPU per event, best of 5 passes, median of {args.rounds} runs: "
            f"compiled {median['compiled']:.1f} µs, pure {median['pure']:.1f} µs: "
            f"ratio {median['compiled'] / median['pure']:.2f}"
        )
        if args.callgrind:
            count = write_bodies(args.callgrind_events, False, bodies)
            instructions = {}
            for form in FORMS:
                total, used = _instructions(sources[form], bodies, 2)
                instructions[form] = total / (2 * count)
                print(f"  {used:<66} {instructions[form]:9,.0f} instructions per event")
            print(
                f"instructions per event ({count:,} events, 2 passes after a warm one): "
                f"compiled {instructions['compiled']:,.0f}, pure {instructions['pure']:,.0f}: "
                f"ratio {instructions['compiled'] / instructions['pure']:.2f}"
            )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
