"""A bundle is refused when its product's suites would not render in the release it cuts.

``steward eval validate --bundle`` renders a suite's cases locally; the plan renders every suite of the product as
the release's runs would (prompts at head, linked documents and processes, the suite as the server runs it), so an
undefined variable or a missing prompt is a problem of the plan, naming the suite and the case, and not a release
that fails once its runs have been queued.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from sqlalchemy.orm import Session

from evals import SuiteError, parse_suite
from evals.suite_check import render_problems
from evals.suite_errors import SuiteErrorDetail
from governance.bundles.schemas import BundleProblem
from governance.catalog import repository as catalog_repo
from governance.catalog.models import ComponentKind, Product
from governance.releases.manifests import build_manifests
from governance.runs.execution import run_context, spec_as_run

RENDER_BUDGET_S = 5.0
"""How long a plan renders suites at most: a template can take its sandbox's 10 s per render, and a plan holds a
server thread. What is not rendered by then is left to the release's runs, which render every case anyway."""


def unrenderable_suites(session: Session, product: Product, fields: Mapping[str, str]) -> list[BundleProblem]:
    """Every case of ``product``'s suites that would not render, as it stands in this transaction.

    Args:
        session: The transaction the bundle's items were applied (or rehearsed) in.
        product: The bundle's product.
        fields: Each suite's place in the bundle (``suites[0]``) by name; a suite the bundle does not hold is
            named ``suite NAME``.
    """
    manifest = build_manifests(session, [product])[product.id]
    if not manifest["suites"]:
        return []
    templates, extra_vars = run_context(session, manifest, product.id)
    problems: list[BundleProblem] = []
    deadline = time.monotonic() + RENDER_BUDGET_S
    for name, entry in sorted(manifest["suites"].items()):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        version = catalog_repo.version_of(session, ComponentKind.suite, name, entry["version"], product.id)
        try:
            suite = parse_suite(spec_as_run(version.content["spec"], manifest["model"]), source=f"suite '{name}'")
        except SuiteError:
            continue  # every published suite was parsed when it was published
        where = fields.get(name, f"suite {name}")
        # a prompt's problem fails every case alike: said once, with how many cases it fails
        alike: dict[str, list[SuiteErrorDetail]] = {}
        for detail in render_problems(suite, templates, extra_vars=extra_vars, budget_s=left):
            alike.setdefault(detail.message, []).append(detail)
        for message, details in alike.items():
            first = details[0]
            if len(details) == 1:
                field, case = f"{where}.spec.{first.path}", f"case {first.case_id}: " if first.case_id else ""
            else:
                shown = ", ".join(str(d.case_id) for d in details[:3]) + (", ..." if len(details) > 3 else "")
                field, case = f"{where}.spec.cases", f"{len(details)} cases ({shown}): "
            problems.append(BundleProblem(field=field, reason=f"{case}{message}", status=422))
    return problems
