"""The server's secret key, from which webhook signing secrets and the browser session key are derived."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from service.settings import Settings, make_private_dir


def server_secret_key(settings: Settings) -> bytes:
    """The key webhook signing secrets derive from: ``STEWARD_SECRET_KEY``, else one generated once under var/.

    The generated key is written atomically (a hard link that fails if the file exists), so processes
    racing on first use agree on one key. Processes on other machines must be given the same
    ``STEWARD_SECRET_KEY``, or their signatures will not verify.
    """
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value().encode("utf-8")
    path = Path(settings.var_dir) / "secret_key"
    if not path.exists():
        make_private_dir(path.parent)
        scratch = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
            # When another process won the race, its key stands.
            with contextlib.suppress(FileExistsError):
                os.link(scratch, path)
        finally:
            scratch.unlink(missing_ok=True)
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty; delete it or set STEWARD_SECRET_KEY")
    return key.encode("utf-8")
