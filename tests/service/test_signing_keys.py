"""The Ed25519 signing key: generated once, private, named by its public key."""

from __future__ import annotations

import pytest

from service.signing_keys import KEY_ID_PREFIX, read_public_key, signing_key


def test_the_generated_signing_key_is_stable_private_and_named_by_its_public_key(settings, tmp_path):
    first = signing_key(settings)
    assert first.key_id == signing_key(settings).key_id and first.key_id.startswith(KEY_ID_PREFIX)
    assert (settings.var_dir / "signing_key").stat().st_mode & 0o077 == 0
    signature = first.sign(b"message")
    assert first.public.verifies(b"message", signature) and not first.public.verifies(b"messagf", signature)
    exported = tmp_path / "key.pub"
    exported.write_text(first.public.pem())
    assert read_public_key(exported).key_id == first.key_id


def test_a_configured_key_file_that_is_missing_or_not_ed25519_is_named(settings, tmp_path):
    missing = settings.model_copy(update={"signing_key_file": tmp_path / "missing.pem"})
    with pytest.raises(ValueError, match=r"missing\.pem: no such signing key file"):
        signing_key(missing)
    assert not (tmp_path / "missing.pem").exists()
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    with pytest.raises(ValueError, match=r"garbage\.pem: not an unencrypted PEM private key"):
        signing_key(settings.model_copy(update={"signing_key_file": garbage}))
