"""Secrets generated once for an installation that was given none (issue 21, finding 2).

`make demo` served with DEBUG off and the public default SECRET_KEY, from which the field key
(vendor passwords, SUSHI keys) and the log-user HMAC key were derived: anyone with a backup
could decrypt them. Now `make demo` runs

    python -m lifeline.core.keyfiles var/keys

which writes four random keys, each in its own file readable by the owner only (mode 600),
the first time, and leaves them alone afterwards; the Makefile passes them to every command as
LIFELINE_SECRET_KEY_FILE, LIFELINE_FIELD_KEY_FILE, LIFELINE_LOG_USER_KEY_FILE and
LIFELINE_SIGNING_KEY_FILE. Plain Python,
no Django: it runs before the settings can be read.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

NAMES = ("secret_key", "field_key", "log_user_key", "signing_key")
# A signing key added to a directory made before it existed continues the secret the signatures
# were derived from until then (SECRET_KEY), so receipts issued so far keep verifying.
CONTINUES = {"signing_key": "secret_key"}
KEY_BYTES = 48  # 64 URL-safe characters


def ensure(directory: Path) -> dict[str, Path]:
    """The key files in `directory`, created (mode 600) when missing; existing ones are kept."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    paths: dict[str, Path] = {}
    existed = {name for name in NAMES if (directory / name).exists()}
    for name in NAMES:
        path = directory / name
        before = directory / CONTINUES.get(name, name)
        value = (
            before.read_text(encoding="ascii").strip()
            if CONTINUES.get(name) in existed and not path.exists()
            else secrets.token_urlsafe(KEY_BYTES)
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            os.chmod(path, 0o600)  # tighten a copy restored with looser rights
        else:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(value + "\n")
        paths[name] = path
    return paths


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m lifeline.core.keyfiles DIRECTORY", file=sys.stderr)
        return 2
    for path in ensure(Path(argv[0])).values():
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
