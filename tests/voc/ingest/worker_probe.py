"""What the transcript tests ask a validation worker process, in a module of its own.

Unpickling a function imports its module in the worker. The test module imports Hypothesis,
and that import ran beside the worker's warm-up thread importing the text models: both reached
`annotated_types`, and one saw it partially initialised (a fresh-clone run, 5 Dec 2026). This
module imports nothing the warm-up imports.
"""

from __future__ import annotations

import sys


def language_model_loaded() -> bool:
    # spaCy is what warm() loads first (the language detector comes last, after the models)
    return "spacy" in sys.modules
