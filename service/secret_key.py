"""The server's secret key, from which webhook signing secrets, the browser session key and the audit chain key
are derived."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from governance.audit.sealing import ChainKey
from service.settings import Settings, make_private_dir


def create_private_file_once(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` (0600) unless the file exists; when processes race, the first one's stands.

    The file is written in full under a scratch name and then hard-linked into place, which fails if the
    file exists, so no process ever reads a half-written key.
    """
    if path.exists():
        return
    make_private_dir(path.parent)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        with contextlib.suppress(FileExistsError):
            os.link(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)


def server_secret_key(settings: Settings) -> bytes:
    """The key webhook signing secrets derive from: ``STEWARD_SECRET_KEY``, else one generated once under var/.

    The generated key is written atomically, so processes racing on first use agree on one key. Processes on
    other machines must be given the same ``STEWARD_SECRET_KEY``, or their signatures will not verify.
    """
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value().encode("utf-8")
    path = Path(settings.var_dir) / "secret_key"
    create_private_file_once(path, secrets.token_hex(32).encode("ascii"))
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty; delete it or set STEWARD_SECRET_KEY")
    return key.encode("utf-8")


def audit_chain_key(settings: Settings) -> ChainKey:
    """The key that seals audit events: a subkey of the server secret, so it is never stored anywhere itself."""
    return ChainKey.derive(server_secret_key(settings))
