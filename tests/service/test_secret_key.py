"""The server's secret key: configured, or generated once and kept private."""

from __future__ import annotations

from pydantic import SecretStr

from service.secret_key import server_secret_key


def test_the_generated_server_key_is_stable_and_private(settings):
    settings = settings.model_copy(update={"secret_key": None})
    first = server_secret_key(settings)
    assert first == server_secret_key(settings) and len(first) == 64
    assert (settings.var_dir / "secret_key").stat().st_mode & 0o077 == 0
    configured = settings.model_copy(update={"secret_key": SecretStr("from-the-environment")})
    assert server_secret_key(configured) == b"from-the-environment"
