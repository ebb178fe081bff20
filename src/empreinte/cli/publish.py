"""`empreinte publish`: the published Parquet log by hand (docs/publish.md).

- `empreinte publish -w WORKSPACE`: stage what that workspace committed (its server stopped;
  a running `serve` stages by itself when `[publish] url` is set), to its `[publish] url` or
  `--log`; publish too when it leads (`[publish] leader`) or `--log` names the log.
- `empreinte publish --log URL`: run the publisher alone (any machine that reaches the URL).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from empreinte.cli.common import JsonOption, console, fail, print_json
from empreinte.cli.common import workspace as _workspace
from empreinte.errors import EmpreinteError

LogOption = Annotated[
    str | None,
    typer.Option("--log", help="The published log's URL (a path, file://, s3://, gs://…)."),
]
StageWorkspaceOption = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Stage this workspace's committed events first."),
]


def publish(
    log: LogOption = None,
    workspace: StageWorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stage a workspace's committed events and/or publish every staged segment, exactly once,
    into the partitioned Parquet log."""
    from empreinte.privacy.erasure import adopt_published
    from empreinte.publish.log import PublishedLog
    from empreinte.publish.publisher import Publisher

    if log is None and workspace is None:
        raise fail("name the published log (--log URL) or a workspace to stage (-w DIR)")
    doc: dict[str, Any] = {}
    try:
        if workspace is not None:
            with _workspace(workspace) as ws:
                published = ws.published
                if log is None and not published.enabled:
                    raise fail(f"{workspace}: no [publish] url in empreinte.toml; or give --log")
                done = published.run(url=log, publish=True if log else None)
                doc["collector"] = published.collector
                doc["stagedSegments"] = done.staged
                doc["erasuresApplied"] = len(done.erasures)
                doc["erasuresAdopted"] = len(adopt_published(ws))
                report = done.published
        else:
            assert log is not None
            report = Publisher(PublishedLog(log)).publish()
    except (EmpreinteError, OSError) as exc:
        raise fail(f"publishing failed: {exc}") from None
    if report is not None:
        doc.update(
            versions=report.versions,
            rows=report.rows,
            duplicates=report.duplicates,
            segments=report.segments,
            compactedFiles=report.compacted,
        )
    if as_json:
        print_json(doc)
        return
    for key, value in doc.items():
        console.print(f"{key}: {value}")
