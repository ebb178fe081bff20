"""`empreinte voc …`: the voice of the customer. Each part registers its commands here:

empreinte voc calls --hours 24 --reason delivery     (cli/voc_calls.py)
"""

from __future__ import annotations

import typer

from empreinte.cli import voc_calls

voc_app = typer.Typer(
    help="Voice of the customer: calls, chats and verbatims, and the journeys before calls.",
    no_args_is_help=True,
)
voc_calls.register(voc_app)
