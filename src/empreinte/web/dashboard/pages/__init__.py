"""The dashboard's pages, one module each; the navigation shows them in `NAVIGATION` order
(only those the viewer's role may see)."""

from __future__ import annotations

from empreinte.web.dashboard.page import Action, Page
from empreinte.web.dashboard.pages import (
    customers,
    destinations,
    experience,
    journeys,
    loyalty,
    offers,
    overview,
    partners,
    privacy,
    segments,
    sources,
    stories,
    voc,
    voc_calls,
)

NAVIGATION = (
    "overview",
    "customers",
    "journeys",
    "experience",
    "voc",
    "segments",
    "offers",
    "loyalty",
    "stories",
    "destinations",
    "partners",
    "privacy",
    "sources",
)

_MODULES = (
    overview,
    customers,
    journeys,
    experience,
    voc,
    voc_calls,
    segments,
    offers,
    loyalty,
    stories,
    destinations,
    partners,
    privacy,
    sources,
)
PAGES: list[Page] = [page for module in _MODULES for page in module.PAGES]
ACTIONS: list[Action] = [action for module in _MODULES for action in module.ACTIONS]
