"""`empreinte voc …`: the voice of the customer. Each part of it registers its own commands
on this group (`register(group)`): cli/voc_import.py adds `import` and `originals`,
cli/voc_calls.py adds `calls`."""

from __future__ import annotations

import typer

from empreinte.cli import voc_calls, voc_import

voc_app = typer.Typer(
    help="Voice of the customer: conversations and verbatims, redacted; the journeys before calls.",
    no_args_is_help=True,
)
voc_import.register(voc_app)
voc_calls.register(voc_app)
