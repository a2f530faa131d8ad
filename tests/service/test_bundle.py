from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.bundle import BundleError, load_bundle
from service.settings import PROJECT_ROOT

REFERENCE = PROJECT_ROOT / "prompts" / "goal_coach"


def test_the_reference_bundle_loads():
    bundle = load_bundle(REFERENCE / "steward.yaml")
    assert bundle.product.slug == "goal-coach" and bundle.product.risk_tier.value == "high"
    assert set(bundle.documents) == {"smart-goals-guide", "performance-management-policy"}
    assert bundle.processes["goal-setting"].documents == ["performance-management-policy"]
    assert [s.name for s in bundle.processes["goal-setting"].steps][:2] == ["Draft", "Manager review"] or len(
        bundle.processes["goal-setting"].steps
    ) == 4
    assert "system" in bundle.prompts and len(bundle.suites) == 1
    suite = next(iter(bundle.suites.values()))
    assert len(suite.spec["cases"]) >= 15


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "goal_coach"
    shutil.copytree(REFERENCE, target)
    return target


def test_errors_name_the_file_and_the_field(copy: Path):
    steward = copy / "steward.yaml"
    steward.write_text(steward.read_text().replace("risk_tier: high", "risk_tier: extreme"))
    (copy / "system.md.j2").unlink()
    with pytest.raises(BundleError) as error:
        load_bundle(steward)
    text = str(error.value)
    assert f"{steward}: product.risk_tier" in text
    with pytest.raises(BundleError):
        load_bundle(copy / "missing.yaml")


def test_missing_file_is_named(copy: Path):
    (copy / "system.md.j2").unlink()
    with pytest.raises(BundleError) as error:
        load_bundle(copy / "steward.yaml")
    assert "prompts[0] (system): no such file" in str(error.value) and "system.md.j2" in str(error.value)


def test_bad_yaml_points_at_the_line(copy: Path):
    steward = copy / "steward.yaml"
    steward.write_text("version: 1\nproduct: [unclosed\n")
    with pytest.raises(BundleError) as error:
        load_bundle(steward)
    assert f"{steward}:" in str(error.value) and "not valid YAML" in str(error.value)
