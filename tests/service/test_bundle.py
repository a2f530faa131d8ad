from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.bundle import BundleError, bundle_context, bundle_request, load_bundle
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
    assert "system" in bundle.prompts and set(bundle.suites) == {"goal-coach-quality", "goal-coach-fairness"}
    assert len(bundle.suites["goal-coach-quality"].spec["cases"]) >= 15
    assert "fairness" in bundle.suites["goal-coach-fairness"].spec


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


@pytest.mark.parametrize("readme", [PROJECT_ROOT / "README.md", REFERENCE / "README.md"])
def test_the_documented_template_example_renders_with_the_variables_a_run_gets(readme):
    import re

    from jinja2.sandbox import ImmutableSandboxedEnvironment

    example = re.search(r"```jinja\n(.*?)```", readme.read_text(), re.S).group(1)
    bundle = load_bundle(REFERENCE / "steward.yaml")
    variables = {"company": "Acme Corp", **bundle_context(bundle)}
    rendered = ImmutableSandboxedEnvironment().from_string(example).render(**variables)
    assert "Follow Acme Corp's Performance management policy (version local):" in rendered
    assert "1. Draft (Employee): The employee drafts" in rendered


def test_the_server_gets_a_bundle_with_its_files_contents_and_the_pins_asked_for():
    bundle = load_bundle(REFERENCE / "steward.yaml")
    body = bundle_request(bundle, expect_heads={"prompt/system": "3f2a9c1"})
    assert [d["slug"] for d in body["documents"]] == ["smart-goals-guide", "performance-management-policy"]
    assert body["prompts"][0]["expect_head"] == "3f2a9c1" and "{%" in body["prompts"][0]["template"]
    with pytest.raises(BundleError, match="prompt/nope"):
        bundle_request(bundle, expect_heads={"prompt/nope": "3f2a9c1"})


def test_a_link_the_bundle_cannot_satisfy_is_named_once(copy):
    spec = (copy / "steward.yaml").read_text()
    (copy / "steward.yaml").write_text(
        spec.replace("processes:\n  - slug: goal-setting\n    file: processes/goal-setting.yaml\n", "processes: []\n")
    )
    bundle = load_bundle(copy / "steward.yaml")
    with pytest.raises(BundleError) as missing:
        bundle_context(bundle)
    assert str(missing.value).count("goal-setting") == 1 and "--server" in str(missing.value)
    fetched = bundle_context(
        bundle,
        lambda kind, slug: (
            ({"name": "Goal setting", "description": "", "steps": [], "documents": []}, 4)
            if kind == "process"
            else None
        ),
    )
    assert fetched["processes"]["goal-setting"]["version"] == 4
