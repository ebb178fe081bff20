"""Crawler detection by user agent, with the maintained CrawlerDetect patterns.

The patterns are the `crawlerdetect` package's, but not its matcher: it searches one regular
expression of some 1,500 alternatives, which costs about 0.1 ms per character of user agent,
and one of them (`[a-z0-9\\-_]*(bot|crawl|…)`) backtracks quadratically: a 16 KB user agent
of repeated "ab" held a request thread for 47 s. Here

- a user agent longer than `MAX_USER_AGENT` (1 KB) is flagged as a bot without matching: no
  browser sends one (real ones are 100-300 characters), and a flag keeps the event;
- the quadratic pattern loses its leading `[a-z0-9\\-_]*`, which cannot change whether a
  search finds something;
- each pattern is tried only when the user agent contains a literal that every match of the
  pattern contains (its "needle"), and a needle is looked for only when the user agent has
  its first three characters: a set of trigrams and a few substring tests in C, instead of
  every alternative at every position.

The answer is the library's (`CrawlerDetect.is_crawler`), which a test checks on a sample of
user agents built from every pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from crawlerdetect.providers.crawlers import data as _CRAWLERS
from crawlerdetect.providers.exclusions import data as _EXCLUSIONS

# Longer user agents are flagged as bots unread (see the module's docstring).
MAX_USER_AGENT = 1024

_GREEDY_PREFIX = re.compile(r"^\[[^\]]*\]\*")  # `[a-z0-9\-_]*` at the start of a pattern
_LITERAL_GROUP = re.compile(r"^\(([\w ]+(?:\|[\w ]+)*)\)$")  # `(bot|crawl|…)`
_SPECIAL = frozenset(".^$*+?{}[]()|\\")
_OPTIONAL = frozenset("*?{")


@dataclass(frozen=True)
class _Pattern:
    needle: str  # lower-cased; '' when no literal is certain (always tried)
    regex: re.Pattern[str]


def _top_level_alternatives(pattern: str) -> list[str]:
    """`pattern` split on the `|` that are outside groups and classes."""
    parts: list[str] = []
    start, depth, i = 0, 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 1
        elif ch == "[":
            i = pattern.index("]", i + 2)  # a class: `]` right after `[` is a member
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    return [*parts, pattern[start:]]


def _needle(pattern: str) -> str:
    """The longest run of plain characters outside groups that every match of `pattern`
    (one alternative) contains, lower-cased. Conservative: a character followed by `*`, `?`
    or `{` is dropped, groups, classes and escapes such as `\\d` end a run."""
    best, run, depth, i = "", "", 0, 0
    while i < len(pattern):
        ch = pattern[i]
        literal = None
        if ch == "\\":  # `\.` is a literal dot; `\d`, `\b`… end a run
            i += 1
            if i < len(pattern) and not pattern[i].isalnum():
                literal = pattern[i]
        elif ch not in _SPECIAL and depth == 0:
            literal = ch
        elif ch == "[":
            i = pattern.index("]", i + 2)
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if literal is not None and depth == 0:
            run += literal
            if i + 1 < len(pattern) and pattern[i + 1] in _OPTIONAL:
                run = run[:-1]
            else:
                i += 1
                continue
        best = max(best, run, key=len)
        run = ""
        i += 1
    return max(best, run, key=len).lower()


def _patterns() -> list[_Pattern]:
    out: list[_Pattern] = []
    for source in _CRAWLERS:
        for alternative in _top_level_alternatives(source):
            alternative = _GREEDY_PREFIX.sub("", alternative)
            group = _LITERAL_GROUP.match(alternative)
            words = group.group(1).split("|") if group else [alternative]
            out.extend(_Pattern(_needle(w), re.compile(w, re.IGNORECASE)) for w in words)
    return out


_PATTERNS = _patterns()
# Patterns by the first three characters of their needle (every needle has at least three:
# a test checks it), so that a user agent meets only the patterns its own trigrams start.
_BY_TRIGRAM: dict[str, list[_Pattern]] = {}
for _p in _PATTERNS:
    _BY_TRIGRAM.setdefault(_p.needle[:3], []).append(_p)
_EXCLUDED = re.compile("|".join(_EXCLUSIONS), re.IGNORECASE)  # browser tokens, linear


def is_bot(user_agent: str) -> bool:
    """True when `user_agent` is a known crawler, spider or headless tool, or longer than
    `MAX_USER_AGENT` (decided before the cache, which must not keep 32 KB keys)."""
    return len(user_agent) > MAX_USER_AGENT or _crawler(user_agent)


@lru_cache(maxsize=65_536)
def _crawler(user_agent: str) -> bool:
    """Whether the patterns match. Cached: real traffic repeats a small set of user agents
    (at most 64 MB of them, given the cap)."""
    # As CrawlerDetect does: browser tokens (Mozilla/5.0, Safari/537.36…) are removed first.
    agent = _EXCLUDED.sub("", user_agent.strip())
    lowered = agent.lower()
    trigrams = {lowered[i : i + 3] for i in range(len(lowered) - 2)}
    return any(
        p.needle in lowered and p.regex.search(agent)
        for trigram in trigrams & _BY_TRIGRAM.keys()
        for p in _BY_TRIGRAM[trigram]
    )
