"""Conversations and verbatims written to a workspace's log the way the ingestion will store
them (texts already redacted), and planted themes for the topic tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from empreinte.workspace import Workspace

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def turns(*pairs: tuple[str, str], gap: float = 1.0, length: float = 4.0) -> list[dict[str, Any]]:
    """Turns one after another: each `length` seconds, `gap` seconds of silence between."""
    out, t = [], 0.0
    for speaker, text in pairs:
        out.append({"speaker": speaker, "text": text, "start": t, "end": t + length})
        t += length + gap
    return out


def call(
    ws: Workspace,
    transcript: list[dict[str, Any]],
    *,
    user: str = "u1",
    at: datetime = T0,
    agent: str | None = "agent-1",
    language: str | None = None,
    event: str = "Call Completed",
    **properties: Any,
) -> str:
    props: dict[str, Any] = {"transcript": transcript, **properties}
    if agent:
        props["agent_id"] = agent
    if language:
        props["language"] = language
    return ws.track(
        event,
        user_id=user,
        properties=props,
        timestamp=at,
        context={"channel": "phone" if event == "Call Completed" else "chat"},
    )


THEMES = {
    "delivery": "colis livreur livraison retard transporteur relais parcel courier tracking",
    "screen": "ecran casse fissure tactile telephone screen cracked display touch",
    "password": "motdepasse connexion identifiant bloque password login locked reset",
    "sofa": "canape tissu coussin assise angle sofa fabric cushion corner",
}
COMMON = ["hier", "semaine", "encore", "vraiment", "yesterday", "week", "again", "today", "maybe"]


def planted(n: int, seed: int = 1) -> list[tuple[str, str]]:
    """(theme, text) of `n` texts, each four words of one theme among common words."""
    rnd = random.Random(seed)
    names = sorted(THEMES)
    out = []
    for i in range(n):
        theme = names[i % len(names)]
        chosen = rnd.sample(THEMES[theme].split(), 4) + rnd.sample(COMMON, 3)
        rnd.shuffle(chosen)
        out.append((theme, " ".join(chosen)))
    return out


def days(n: float) -> timedelta:
    return timedelta(days=n)
