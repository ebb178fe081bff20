"""The overlap of saved segments as a picture: a square grid, one row and column per segment,
each cell coloured by Jaccard (people in both / people in either) and labelled with the
people in both; PNG or SVG, titled in English or French.

Drawn the way analytics/cx/charts.py draws (its private Agg figure under its lock, the default
style, fixed SVG salt): the same input gives the same bytes, safe in the threaded server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from empreinte.analytics.cx import charts
from empreinte.errors import ChartError

_TEXTS = {
    "en": {"title": "Segment overlap (colour: Jaccard; number: people in both)", "size": "size"},
    "fr": {
        "title": "Recouvrement des segments (couleur : Jaccard ; nombre : personnes dans les deux)",
        "size": "taille",
    },
}


def overlap_chart(
    names: Sequence[str],
    pairs: Sequence[Mapping[str, Any]],
    sizes: Mapping[str, int],
    path: str | Path,
    language: str = "en",
) -> Path:
    """Write the overlap grid of segments `names`: `pairs` as `OverlapReport.to_rows()` gives
    them (a, b, both, jaccard), `sizes` each segment's size (on the diagonal)."""
    if language not in _TEXTS:
        raise ChartError(f"unknown language {language!r}: use en or fr")
    names = list(names)
    if len(names) < 2:
        raise ChartError("an overlap chart needs two segments or more")
    index = {name: i for i, name in enumerate(names)}
    jaccard = np.eye(len(names))
    both = np.diag([float(sizes.get(name, 0)) for name in names])
    for row in pairs:
        i, j = index[row["a"]], index[row["b"]]
        jaccard[i, j] = jaccard[j, i] = float(row["jaccard"])
        both[i, j] = both[j, i] = float(row["both"])
    texts = _TEXTS[language]
    side = 1.6 + 0.9 * len(names)

    def draw(fig: Figure) -> None:
        ax = fig.add_subplot()
        ax.imshow(jaccard, vmin=0.0, vmax=1.0, cmap="Blues")
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
        ax.set_yticks(range(len(names)), names)
        for i in range(len(names)):
            for j in range(len(names)):
                colour = "white" if jaccard[i, j] > 0.6 else "black"
                ax.text(j, i, f"{int(both[i, j]):,}", ha="center", va="center", color=colour)
        ax.set_title(texts["title"], fontsize=9)

    return charts.render(path, charts.format_of(path), (side + 2.0, side), draw)
