"""Preview an uploaded file in a child process with a memory limit, never in the web process.

An upload is a stranger's file: a workbook that asks for 549 GB, a sheet that unpacks to
a gibibyte. The readers refuse what they can recognise (:mod:`patron.ingest.reading.limits`);
this is the second wall: :func:`upload_preview` runs :func:`patron.ingest.preview.file_preview`
in ``python -m patron.jobs.preview_child`` under ``RLIMIT_AS`` (PATRON_PREVIEW_MEMORY_MB)
and a time limit, so that whatever the file does, the server goes on serving.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from patron.ingest.errors import IngestError, IngestErrorCode
from patron.ingest.mapping import EntityKind

PREVIEW_SECONDS = 120


def _limit(megabytes: int) -> Any:
    def apply() -> None:  # runs in the child, before it execs Python
        import resource

        size = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return apply


def upload_preview(
    path: Path, *, kind: EntityKind, encoding: str, sheet: str, preset: str
) -> dict[str, Any]:
    """The preview of ``path`` (``FilePreview.as_dict()``), computed in a child process.

    Raises
    ------
    IngestError
        What the reader said about the file; or ``TOO_LARGE`` when reading it needed more
        memory or time than the limits allow.
    """
    request = {
        "path": str(path),
        "kind": str(kind),
        "encoding": encoding,
        "sheet": sheet,
        "preset": preset,
        "language": get_language() or settings.LANGUAGE_CODE,
    }
    megabytes = int(getattr(settings, "PATRON_PREVIEW_MEMORY_MB", 1536))
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "PATRON_ALLOW_INSECURE_KEY": "1",  # the child signs nothing
    }
    env.setdefault("DJANGO_SETTINGS_MODULE", "patron.settings")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "patron.jobs.preview_child"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=PREVIEW_SECONDS,
            env=env,
            preexec_fn=_limit(megabytes) if sys.platform != "win32" else None,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise IngestError(
            _("Reading the first rows took longer than %(seconds)s seconds: the file is too "
              "large or damaged. Save it as CSV and upload it again.")
            % {"seconds": PREVIEW_SECONDS},
            code=IngestErrorCode.TOO_LARGE,
        ) from None  # fmt: skip
    answer = _answer(done.stdout)
    if answer is None:
        raise IngestError(
            _("Reading the first rows needed more than %(limit)s MB of memory, or the reader "
              "stopped: the file is too large or damaged. Save it as CSV and upload it again.")
            % {"limit": megabytes},
            code=IngestErrorCode.TOO_LARGE,
            extra={"exit_code": done.returncode},
        )  # fmt: skip
    if "error" in answer:
        error = answer["error"]
        raise IngestError(
            error["message"], code=IngestErrorCode(error["code"]), extra=error["extra"]
        )
    return dict(answer["preview"])


def _answer(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            try:
                return dict(json.loads(line))
            except ValueError:
                return None
    return None


def main() -> None:
    request = json.loads(sys.stdin.read())
    import django

    django.setup()
    from django.utils import translation

    from patron.ingest.importer import ImportOptions
    from patron.ingest.preview import file_preview

    translation.activate(request["language"])
    try:
        preview = file_preview(
            request["path"],
            kind=EntityKind(request["kind"]),
            options=ImportOptions(
                encoding=request["encoding"] or None,
                sheet=request["sheet"] or None,
                preset=request["preset"] or None,
            ),
        )
    except IngestError as error:
        extra = json.loads(json.dumps(error.extra, default=str))
        answer: dict[str, Any] = {
            "error": {"message": error.message, "code": str(error.code), "extra": extra}
        }
    except MemoryError:
        sys.exit(3)
    else:
        answer = {"preview": json.loads(json.dumps(preview.as_dict(), default=str))}
    sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
