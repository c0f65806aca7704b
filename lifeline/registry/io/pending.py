"""An uploaded file kept between its preview and the librarian's confirmation.

The file sits on disk (not in the session: several web workers, files up to the upload limit)
under MEDIA_ROOT/registry_imports/<token>, with who uploaded it and for which library. Only the
same user can apply it; files older than a day are swept on each new upload."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

from django.conf import settings

MAX_AGE_SECONDS = 24 * 3600


def _dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "registry_imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sweep(folder: Path) -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for item in folder.iterdir():
        if item.stat().st_mtime < cutoff:
            item.unlink(missing_ok=True)


def save(user_id: int, data: bytes, meta: dict[str, Any]) -> str:
    folder = _dir()
    _sweep(folder)
    token = secrets.token_urlsafe(18)
    (folder / f"{token}.bin").write_bytes(data)
    (folder / f"{token}.json").write_text(
        json.dumps({**meta, "user_id": user_id}), encoding="utf-8"
    )
    return token


def load(token: str, user_id: int) -> tuple[bytes, dict[str, Any]] | None:
    if not token.replace("-", "").replace("_", "").isalnum():
        return None
    folder = _dir()
    try:
        meta = json.loads((folder / f"{token}.json").read_text(encoding="utf-8"))
        data = (folder / f"{token}.bin").read_bytes()
    except (FileNotFoundError, ValueError):
        return None
    if meta.get("user_id") != user_id:
        return None
    return data, meta


def discard(token: str) -> None:
    folder = _dir()
    for suffix in (".bin", ".json"):
        (folder / f"{token}{suffix}").unlink(missing_ok=True)
