"""`empreinte voc …`: the voice of the customer. Each part of it registers its own commands
on this group (`register(group)`): cli/voc_import.py adds `import` and `originals`."""

from __future__ import annotations

import typer

from empreinte.cli import voc_import

voc_app = typer.Typer(
    help="Voice of the customer: conversations and verbatims, redacted.", no_args_is_help=True
)
voc_import.register(voc_app)
