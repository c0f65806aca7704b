"""The checks of a catalogue or holdings upload, on the page before it is stored and in the
background import (`lifeline/selection/jobs.py`, on `lifeline.core.jobs`) before it is read."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from lifeline.core.uploads import check_upload
from lifeline.selection import services
from lifeline.selection.choices import SourceFormat
from lifeline.selection.logic.marc import ImportRefused


def read_upload_checks(file: Any) -> None:
    """The quick checks of the one upload opener, on the page before the file is stored and in
    the task before it is read: size first; a file that is not ISO 2709 (which has no magic
    bytes and is binary; its leader is checked by the MARC reader) must be a sheet or XML."""
    services.check_size(int(getattr(file, "size", 0) or 0))
    head = file.read(4096)
    file.seek(0)
    if services.sniff(head) != SourceFormat.ISO2709:
        try:
            check_upload(file, ("xlsx", "csv", "txt", "tsv", "xml"), services.max_catalogue_bytes())
        except ValidationError as exc:
            raise ImportRefused(list(exc.messages)) from exc
    file.seek(0)
