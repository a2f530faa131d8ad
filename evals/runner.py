"""The runner: every (case, repeat) of a suite through a provider, concurrently, into a Report.

Design for speed and memory: a fixed pool of ``concurrency`` workers pulls (case, repeat) items
from one shared iterator (no task per case, so 10,000 cases cost 10,000 results, not 10,000 tasks);
templates compile and assertion arguments prepare once; each case renders once however often it
repeats; results are built without re-validation and handed to ``on_results`` in batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from evals.assertions import AssertionContext, get_assertion
from evals.cache import ResponseCache
from evals.calls import ModelCaller
from evals.judge import ModelJudge, OfflineJudge, load_judge_prompt
from evals.providers import Provider, ProviderConfig, ProviderError, ProviderSetupError, create_provider
from evals.providers.base import parse_provider_spec
from evals.ratelimit import RateLimiter
from evals.results import AssertionResult, CaseRef, CaseResult, ChatMessage, Report, construct
from evals.retry import RetryPolicy
from evals.run_errors import EvalConfigError
from evals.scoring import case_outcome, summarize
from evals.suite import UNPREPARED, AssertSpec, Case, Suite
from evals.templates import PromptRenderer, RenderError

ResultsCallback = Callable[[list[CaseResult]], Awaitable[None] | None]


class RunOptions(BaseModel):
    """How to run a suite; every field has a default."""

    model_config = ConfigDict(frozen=True)

    provider: str | None = Field(
        default=None, description="Provider override, e.g. openai:gpt-4o-mini or offline; None: the suite's."
    )
    concurrency: int = Field(default=20, ge=1, le=2000, description="Model calls in flight at once.")
    repeat: int | None = Field(default=None, ge=1, le=100, description="Repeat override for every case.")
    use_cache: bool = Field(default=True, description="Look answers up in (and store them to) the cache.")
    batch_size: int = Field(default=100, ge=1, description="Results per on_results call.")
    batch_interval_s: float = Field(
        default=0.5, gt=0, description="Longest a finished result waits before on_results sees it."
    )


@dataclass(slots=True)
class _PreparedAssert:
    type: str
    check: Callable[..., Any]
    prepared: Any
    is_async: bool
    weight: float
    args: dict[str, Any]


@dataclass(slots=True)
class _CasePlan:
    case: Case
    vars: dict[str, Any]
    asserts: list[_PreparedAssert]
    messages: list[dict[str, str]] | None = None
    report_messages: list[ChatMessage] = field(default_factory=list)
    render_error: str | None = None


_CASE_DEFAULTS: dict[str, Any] = {
    "case_id": "",
    "repeat_index": 0,
    "outcome": "error",
    "score": 0.0,
    "messages": (),
    "output": None,
    "assertions": (),
    "latency_ms": None,
    "prompt_tokens": 0,
    "completion_tokens": 0,
    "cost_usd": None,
    "cached": False,
    "offline": False,
    "attempts": 0,
    "error": None,
}


def _case_result(**values: Any) -> CaseResult:
    merged = {**_CASE_DEFAULTS, **values}
    for name in ("messages", "assertions"):
        if merged[name] == ():
            merged[name] = []
    return construct(CaseResult, merged)


def _prepare(spec: AssertSpec) -> _PreparedAssert:
    definition = get_assertion(spec.type)
    if definition is None:
        raise EvalConfigError("asserts", f"unknown assertion {spec.type!r}")
    prepared = spec._prepared
    if prepared is UNPREPARED:
        prepared = spec._prepared = definition.prepare(spec)
    args = {
        k: v
        for k, v in (
            ("value", spec.value),
            ("threshold", spec.threshold),
            ("metric", spec.metric),
            ("provider", spec.provider),
        )
        if v is not None
    }
    return _PreparedAssert(spec.type, definition.check, prepared, definition.is_async, spec.weight, args)


def _select(suite: Suite, case_ids: Sequence[str] | None) -> list[Case]:
    if case_ids is None:
        return list(suite.cases)
    by_id = {case.id: case for case in suite.cases}
    unknown = [cid for cid in case_ids if cid not in by_id]
    if unknown:
        raise EvalConfigError("case_ids", f"unknown case ids: {', '.join(unknown[:10])}")
    wanted = set(case_ids)
    return [case for case in suite.cases if case.id in wanted]


def _spec_name(provider: Provider) -> str:
    return f"{provider.name}:{provider.model}"


class _Judges:
    """Picks the judge for each llm-rubric: the configured one, or the assertion's own provider."""

    def __init__(self, default_spec: str, make_caller: Callable[[str], ModelCaller], template: str | None) -> None:
        self.default_spec = default_spec
        self._make_caller = make_caller
        self._template = template
        self._judges: dict[str, Any] = {}
        self.used_offline = False
        self.used = False

    async def __call__(self, *, rubric: str, output: str, vars: Mapping[str, Any], spec: Any) -> Any:
        judge_spec = getattr(spec, "provider", None) or self.default_spec
        judge = self._judges.get(judge_spec)
        if judge is None:
            if parse_provider_spec(judge_spec)[0] == "offline":
                judge = OfflineJudge()
            else:
                if self._template is None:
                    raise ValueError("the judge prompt file could not be read")
                judge = ModelJudge(self._make_caller(judge_spec), self._template)
            self._judges[judge_spec] = judge
        self.used = True
        self.used_offline = self.used_offline or judge.offline
        return await judge(rubric=rubric, output=output, vars=vars, spec=spec)


class _Run:
    """The state of one run; a class so the hot path reads attributes, not closures over a dozen names."""

    def __init__(
        self,
        suite: Suite,
        options: RunOptions,
        config: ProviderConfig,
        cache: ResponseCache | None,
        on_results: ResultsCallback | None,
    ) -> None:
        self.suite = suite
        self.options = options
        self.config = config
        self.cache = cache if options.use_cache else None
        self.on_results = on_results
        self.policy = RetryPolicy(config.max_retries, config.backoff_initial_s, config.backoff_max_s)
        model = suite.model
        self.parameters = {
            k: v
            for k, v in (("temperature", model.temperature), ("max_tokens", model.max_tokens), ("seed", model.seed))
            if v is not None
        }
        self.providers: list[Provider] = []
        self.callers: list[ModelCaller] = []
        self.results: list[tuple[int, CaseResult]] = []
        self.batch: list[CaseResult] = []
        self.last_flush = time.monotonic()
        self.flush_lock = asyncio.Lock()
        self.fatal: str | None = None
        self.stop = asyncio.Event()

    def caller(self, provider: Provider, parameters: dict[str, Any]) -> ModelCaller:
        limiter = None
        if self.config.requests_per_minute or self.config.tokens_per_minute:
            limiter = RateLimiter(self.config.requests_per_minute, self.config.tokens_per_minute)
        caller = ModelCaller(
            provider,
            parameters=parameters,
            cache=self.cache,
            limiter=limiter,
            policy=self.policy,
            timeout_s=self.config.timeout_s,
        )
        self.providers.append(provider)
        self.callers.append(caller)
        return caller

    def judge_caller(self, spec: str) -> ModelCaller:
        provider = create_provider(spec, self.config, default_model=self.suite.model.name)
        return self.caller(provider, {"temperature": 0.0})

    async def execute(self, plan: _CasePlan, repeat_index: int, main: ModelCaller, judges: _Judges) -> CaseResult:
        case = plan.case
        offline = main.provider.offline
        if plan.messages is None and plan.render_error is None:
            try:
                plan.messages = self.renderer.render(plan.vars)
                plan.report_messages = [
                    construct(ChatMessage, {"role": m["role"], "content": m["content"]}) for m in plan.messages
                ]
            except RenderError as exc:
                plan.render_error = f"template error: {exc}"
        if plan.render_error is not None:
            return _case_result(
                case_id=case.id, repeat_index=repeat_index, outcome="error", error=plan.render_error, offline=offline
            )
        try:
            answer = await main.call(plan.messages, case_id=case.id, sample=repeat_index)  # type: ignore[arg-type]
        except ProviderError as exc:
            return _case_result(
                case_id=case.id,
                repeat_index=repeat_index,
                outcome="error",
                messages=plan.report_messages,
                error=f"provider error: {exc}",
                offline=offline,
                attempts=self.policy.max_retries + 1,
            )
        ctx = AssertionContext(answer.latency_ms, answer.cost_usd, plan.vars, judges)
        verdicts = []
        for item in plan.asserts:
            try:
                verdict = item.check(answer.text, item.prepared, ctx)
                if item.is_async:
                    verdict = await verdict
                verdicts.append(
                    construct(
                        AssertionResult,
                        {
                            "type": item.type,
                            "args": item.args,
                            "outcome": "passed" if verdict.passed else "failed",
                            "score": float(verdict.score),
                            "reason": verdict.reason,
                            "weight": item.weight,
                        },
                    )
                )
            except Exception as exc:  # an assertion that cannot decide is an error, never a pass
                reason = str(exc) if isinstance(exc, (ValueError, RenderError)) else f"{type(exc).__name__}: {exc}"
                if isinstance(exc, ProviderError):
                    reason = f"judge call failed: {exc}"
                verdicts.append(
                    construct(
                        AssertionResult,
                        {
                            "type": item.type,
                            "args": item.args,
                            "outcome": "error",
                            "score": 0.0,
                            "reason": reason,
                            "weight": item.weight,
                        },
                    )
                )
        outcome, score = case_outcome(verdicts, case.threshold)
        return _case_result(
            case_id=case.id,
            repeat_index=repeat_index,
            outcome=outcome,
            score=score,
            messages=plan.report_messages,
            output=answer.text,
            assertions=verdicts,
            latency_ms=answer.latency_ms,
            prompt_tokens=answer.prompt_tokens,
            completion_tokens=answer.completion_tokens,
            cost_usd=answer.cost_usd,
            cached=answer.cached,
            offline=offline,
            attempts=answer.attempts,
            error=None,
        )

    async def record(self, index: int, result: CaseResult) -> None:
        self.results.append((index, result))
        if self.on_results is None:
            return
        self.batch.append(result)
        if len(self.batch) >= self.options.batch_size or (
            time.monotonic() - self.last_flush >= self.options.batch_interval_s
        ):
            await self.flush()

    async def flush(self) -> None:
        if self.on_results is None:
            return
        async with self.flush_lock:
            if not self.batch:
                return
            batch, self.batch = self.batch, []
            self.last_flush = time.monotonic()
            outcome = self.on_results(batch)
            if asyncio.iscoroutine(outcome) or isinstance(outcome, Awaitable):
                await outcome

    async def close(self) -> None:
        for provider in self.providers:
            # closing is best effort; the report is what matters now
            with contextlib.suppress(Exception):
                await provider.aclose()
        flush = getattr(self.cache, "flush", None)
        if callable(flush):
            flush()


async def run_suite(
    suite: Suite,
    *,
    templates: Mapping[str, str],
    extra_vars: Mapping[str, Any] | None = None,
    options: RunOptions,
    provider_config: ProviderConfig,
    cache: ResponseCache | None = None,
    on_results: ResultsCallback | None = None,
    case_ids: Sequence[str] | None = None,
    cancel: asyncio.Event | None = None,
) -> Report:
    """Run a suite and return its report.

    Args:
        suite: The suite (from :func:`load_suite` or :func:`parse_suite`).
        templates: Prompt texts by name; must hold ``suite.prompt``.
        extra_vars: Merged into every case's vars, over suite, default and case vars (the server
            passes ``documents`` and ``processes``; the CLI passes ``--var``).
        options: Provider override, concurrency, repeat, cache use, batching.
        provider_config: Connection settings, limits, prices and the judge.
        cache: Response cache; None (or ``options.use_cache=False``) makes every call.
        on_results: Receives finished results in batches, sync or async.
        case_ids: Run only these cases (a chunk of a bigger run); results keep (case_id, repeat_index).
        cancel: Set it to stop: the report then lists unfinished executions under ``not_run``.

    Returns:
        The report; ``summary.status`` is ``passed`` only if every execution ran, was graded and met
        the thresholds, ``error`` if anything errored, did not run, or the run was cancelled.

    Raises:
        EvalConfigError: The run cannot start (missing template, unknown provider or case id, ...).
    """
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    cases = _select(suite, case_ids)
    run = _Run(suite, options, provider_config, cache, on_results)
    run.renderer = PromptRenderer(suite, templates)  # type: ignore[attr-defined]
    provider_spec = options.provider or suite.model.provider
    scripted = dict(suite.fixture_outputs)
    scripted.update({c.id: c.offline_output for c in suite.cases if c.offline_output is not None})
    try:
        main_provider = create_provider(
            provider_spec, provider_config, default_model=suite.model.name, scripted=scripted
        )
    except ProviderSetupError as exc:
        raise EvalConfigError("provider", str(exc)) from None
    main = run.caller(main_provider, run.parameters)

    default_asserts = [_prepare(spec) for spec in suite.defaults.asserts]
    base_vars = {**suite.vars, **suite.defaults.vars}
    extra = dict(extra_vars or {})
    plans = [
        _CasePlan(case, {**base_vars, **case.vars, **extra}, [_prepare(s) for s in case.asserts] + default_asserts)
        for case in cases
    ]
    needs_judge = any(a.type == "llm-rubric" for plan in plans for a in plan.asserts)
    template = None
    if needs_judge:
        try:
            template = load_judge_prompt(provider_config.judge_prompts_dir)
        except OSError as exc:
            raise EvalConfigError("judge_prompts_dir", f"cannot read the llm-rubric judge prompt: {exc}") from None
    judge_spec = provider_config.judge or (provider_spec if ":" in provider_spec else _spec_name(main_provider))
    judges = _Judges(judge_spec, run.judge_caller, template)

    work = [(plan, r) for plan in plans for r in range(options.repeat or plan.case.repeat)]
    items = iter(enumerate(work))

    async def worker() -> None:
        for index, (plan, repeat_index) in items:
            if run.stop.is_set():
                return
            try:
                result = await run.execute(plan, repeat_index, main, judges)
            except ProviderSetupError as exc:
                run.fatal = f"provider cannot start: {exc}"
                run.stop.set()
                return
            await run.record(index, result)

    cancelled = False
    tasks = [asyncio.create_task(worker()) for _ in range(min(options.concurrency, max(1, len(work))))]
    everything = asyncio.gather(*tasks)
    stoppers = [asyncio.create_task(run.stop.wait())]
    if cancel is not None:
        stoppers.append(asyncio.create_task(cancel.wait()))
    try:
        await asyncio.wait([everything, *stoppers], return_when=asyncio.FIRST_COMPLETED)
        if not everything.done():
            cancelled = cancel is not None and cancel.is_set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        elif everything.exception() is not None:
            raise everything.exception()  # type: ignore[misc]
    finally:
        for task in (*tasks, *stoppers):
            task.cancel()
        await asyncio.gather(*tasks, *stoppers, return_exceptions=True)
        if everything.done() and not everything.cancelled():
            everything.exception()  # retrieved, so asyncio does not warn about it
        await run.close()
    await run.flush()

    run.results.sort(key=lambda pair: pair[0])
    results = [result for _, result in run.results]
    finished = {index for index, _ in run.results}
    not_run = [
        CaseRef.model_construct(case_id=plan.case.id, repeat_index=r)
        for index, (plan, r) in enumerate(work)
        if index not in finished
    ]
    summary, case_summaries = summarize(
        cases,
        results,
        planned_runs=len(work),
        not_run=not_run,
        threshold=suite.threshold.pass_rate,
        provider=_spec_name(main_provider),
        offline=main_provider.offline,
        provider_calls=sum(c.provider_calls for c in run.callers),
        duration_s=time.perf_counter() - clock,
        judge_provider=judges.default_spec if judges.used else None,
        judge_offline=judges.used_offline,
        cancelled=cancelled,
        error=run.fatal or ("cancelled before every case ran" if cancelled else None),
    )
    return Report.model_construct(
        version=1,
        suite=suite.name,
        suite_description=suite.description,
        started_at=started_at.isoformat(timespec="seconds"),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        summary=summary,
        comparison=None,
        cases=case_summaries,
        not_run=not_run,
        results=results,
    )


def run_suite_sync(
    suite: Suite,
    *,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
    **kwargs: Any,
) -> Report:
    """:func:`run_suite` for synchronous callers; ``loop_factory`` may supply e.g. uvloop's loop."""
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(run_suite(suite, **kwargs))
