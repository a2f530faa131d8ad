"""`steward audit`: signed checkpoints catch what the chain alone cannot, and forged ones are refused."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete
from typer.testing import CliRunner

from governance.accounts.roles import Role
from governance.audit.models import AuditEvent
from service.cli import app as cli
from service.database import make_engine, unit_of_work
from service.migrate import upgrade
from service.settings import Settings, get_settings
from service.signing_keys import read_public_key, signing_key
from tests.conftest import TEST_SERVER_SECRET
from tests.factories import make_product, make_user
from tests.governance.audit.conftest import write_events
from tests.governance.audit.test_sealing import write_events_unkeyed
from tests.governance.catalog.conftest import link, publish_document

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch) -> Settings:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    monkeypatch.setenv("STEWARD_DATABASE_URL", url)
    monkeypatch.setenv("STEWARD_VAR_DIR", str(tmp_path / "var"))
    # The CLI derives the same chain key the tests seal with.
    monkeypatch.setenv("STEWARD_SECRET_KEY", TEST_SERVER_SECRET)
    get_settings.cache_clear()
    upgrade(url)
    yield get_settings()
    get_settings.cache_clear()


def events(settings: Settings, count: int) -> None:
    with unit_of_work(make_engine(settings.database_url)) as session:
        write_events(session, count)


def delete_newest(settings: Settings, keep: int) -> None:
    with unit_of_work(make_engine(settings.database_url)) as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq > keep))


class Said:
    """A command's exit code and output, with rich's line wrapping undone."""

    def __init__(self, args: tuple[str, ...]) -> None:
        result = runner.invoke(cli, ["audit", *args])
        self.exit_code, self.output = result.exit_code, " ".join(result.output.split())


def audit(*args: str) -> Said:
    return Said(args)


def test_a_checkpoint_verifies_against_the_chain_it_was_taken_of_and_a_longer_one(env, tmp_path):
    events(env, 6)
    checkpoint = tmp_path / "checkpoint.json"
    taken = audit("checkpoint", "-o", str(checkpoint))
    assert taken.exit_code == 0, taken.output
    key_id = signing_key(env).key_id
    assert f"wrote checkpoint of event 6 (6 events) signed by {key_id}" in taken.output
    document = json.loads(checkpoint.read_text())
    assert document["checkpoint"]["seq"] == 6 and document["checkpoint"]["signing_key_id"] == key_id
    events(env, 2)
    verified = audit("verify", "--checkpoint", str(checkpoint))
    assert verified.exit_code == 0, verified.output
    assert "the chain still holds event 6" in verified.output and "8 events" in verified.output
    assert "seals checked with chain key" in verified.output


def test_deleting_the_newest_events_passes_a_plain_verify_but_not_the_checkpoint(env, tmp_path):
    events(env, 6)
    checkpoint = tmp_path / "checkpoint.json"
    assert audit("checkpoint", "-o", str(checkpoint)).exit_code == 0
    delete_newest(env, keep=3)
    assert audit("verify").exit_code == 0
    result = audit("verify", "--checkpoint", str(checkpoint))
    assert result.exit_code == 1
    created = datetime.fromisoformat(json.loads(checkpoint.read_text())["checkpoint"]["created_at"]).isoformat()
    assert f"events 4-6 recorded in the checkpoint of {created} are missing" in result.output


def test_a_checkpoint_with_a_forged_signature_is_refused(env, tmp_path):
    events(env, 4)
    checkpoint = tmp_path / "checkpoint.json"
    assert audit("checkpoint", "-o", str(checkpoint)).exit_code == 0
    delete_newest(env, keep=2)
    document = json.loads(checkpoint.read_text())
    # The intruder lowers the checkpoint to match the cut chain, keeping the signature.
    document["checkpoint"]["seq"] = document["checkpoint"]["events"] = 2
    checkpoint.write_text(json.dumps(document))
    result = audit("verify", "--checkpoint", str(checkpoint))
    assert result.exit_code == 1 and "signature does not verify" in result.output
    document["signature"] = "AAAA"
    checkpoint.write_text(json.dumps(document))
    assert "signature does not verify" in audit("verify", "--checkpoint", str(checkpoint)).output


def test_a_checkpoint_from_another_key_is_refused_naming_its_key_id(env, tmp_path, monkeypatch):
    events(env, 3)
    other = tmp_path / "other.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    monkeypatch.setenv("STEWARD_SIGNING_KEY_FILE", str(other))
    get_settings.cache_clear()
    other_id = signing_key(get_settings()).key_id
    checkpoint = tmp_path / "checkpoint.json"
    assert audit("checkpoint", "-o", str(checkpoint)).exit_code == 0
    public = tmp_path / "other.pub"
    printed = runner.invoke(cli, ["audit", "public-key"])
    public.write_text(printed.output)
    assert read_public_key(public).key_id == other_id
    monkeypatch.delenv("STEWARD_SIGNING_KEY_FILE")
    get_settings.cache_clear()
    refused = audit("verify", "--checkpoint", str(checkpoint))
    assert refused.exit_code == 1
    assert f"signed by key {other_id}, which is not trusted here" in refused.output
    assert signing_key(get_settings()).key_id in refused.output
    trusted = audit("verify", "--checkpoint", str(checkpoint), "--public-key", str(public))
    assert trusted.exit_code == 0, trusted.output


def test_a_missing_signing_key_file_and_a_malformed_checkpoint_are_named(env, tmp_path, monkeypatch):
    events(env, 1)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"checkpoint": {"seq": "many"}, "signature": "AAAA"}))
    result = audit("verify", "--checkpoint", str(bad))
    assert result.exit_code == 1 and "not a Steward audit checkpoint" in result.output
    assert "checkpoint.seq" in result.output and "checkpoint.head_hash" in result.output
    monkeypatch.setenv("STEWARD_SIGNING_KEY_FILE", str(tmp_path / "nowhere.pem"))
    get_settings.cache_clear()
    missing = audit("checkpoint", "-o", str(tmp_path / "c.json"))
    assert missing.exit_code == 1 and "nowhere.pem: no such signing key file" in missing.output
    assert not (tmp_path / "c.json").exists()


def test_verify_says_whether_it_checked_the_seals_or_the_links_only(env):
    events(env, 2)
    keyed = audit("verify")
    assert keyed.exit_code == 0 and "seals checked with chain key" in keyed.output
    links = audit("verify", "--links-only")
    assert links.exit_code == 0 and "links only" in links.output


def test_an_upgraded_chain_is_resealed_once_by_an_admin(env):
    with unit_of_work(make_engine(env.database_url)) as session:
        write_events_unkeyed(session, 3)  # as if the chain had been written before keyed seals
        make_user(session, Role.admin, name="ada")
        make_user(session, Role.reviewer, name="rita")
    before = audit("verify")
    assert before.exit_code == 1 and "steward audit reseal" in before.output
    refused = audit("reseal", "--as", "rita")
    assert refused.exit_code == 1 and "--as rita" in refused.output
    resealed = audit("reseal", "--as", "ada")
    assert resealed.exit_code == 0, resealed.output
    assert "recorded as audit.resealed" in resealed.output
    assert audit("verify").exit_code == 0
    assert "nothing to reseal" in audit("reseal", "--as", "ada").output


def test_export_of_a_product_includes_the_document_publish_that_cut_its_release(env, tmp_path):
    with unit_of_work(make_engine(env.database_url)) as session:
        owner = make_user(session, Role.product_owner)[0]
        publish_document(session, owner, "policy", "v1")
        slug = make_product(session, owner, "goal-coach")
        link(session, owner, slug, documents=["policy"])
        publish_document(session, owner, "policy", "v2")
    out = tmp_path / "export.jsonl"
    result = audit("export", "--product", "goal-coach", "-o", str(out))
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    publish = [r for r in records if r["action"] == "document.published" and r["after"]["version"] == 2]
    assert len(publish) == 1 and publish[0]["product"] is None
    cut = [r for r in records if r["action"] == "release.cut" and r["after"]["cause"]["name"] == "policy"]
    assert cut and publish[0]["seq"] < cut[-1]["seq"]
