"""Seeded, deterministic demo data: a retailer's customers and their omnichannel behaviour.

`generate` streams Segment-spec messages (web, app, stores, call centre, e-mail, SMS, push,
chat, social, voice) that later features and benchmarks use; `generate_with_truth` groups the
same messages by the `Person` behind them, for tests that need to know who is who.
"""

from empreinte.demo.catalog import Product, catalog
from empreinte.demo.generator import generate, generate_with_truth, planted_personas
from empreinte.demo.people import Person, people

__all__ = [
    "Person",
    "Product",
    "catalog",
    "generate",
    "generate_with_truth",
    "people",
    "planted_personas",
]
