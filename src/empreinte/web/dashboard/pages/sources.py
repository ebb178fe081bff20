"""The sources page (not built yet)."""

from __future__ import annotations

from empreinte.web.dashboard.page import Action, Page

PAGES: list[Page] = []
ACTIONS: list[Action] = []
