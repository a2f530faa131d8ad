"""The runner: every (case, repeat) of a suite through a provider, concurrently, into a Report.

Design for speed and memory: a fixed pool of ``concurrency`` workers pulls (case, repeat) items
from one shared iterator (no task per case, so 10,000 cases cost 10,000 results, not 10,000 tasks);
a case is planned (vars merged, assertions prepared) when a worker takes its first execution, and a
spooled suite's case is read from disk only then (see :mod:`evals.case_spool`), so a run holds the
cases in flight, not the suite; templates compile once; each case renders once however often it
repeats; results are built without re-validation and handed to ``on_results`` in batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field

from evals.assertions import AssertionContext, JudgeOptions, Verdict, get_assertion
from evals.assertions.registry import CheckFn
from evals.cache import ResponseCache
from evals.calls import CallParameters, ModelCaller
from evals.case_spool import SpooledCases, case_facts
from evals.fairness.analysis import analyse, with_fairness
from evals.judge import ModelJudge, OfflineJudge, load_judge_prompt
from evals.messages import Message
from evals.providers import (
    Provider,
    ProviderConfig,
    ProviderError,
    ProviderSetupError,
    ProviderUnreachable,
    create_provider,
)
from evals.providers.base import parse_provider_spec, spec_name
from evals.providers.embeddings import OpenAIEmbeddings, RunEmbeddings
from evals.ratelimit import RateLimiter
from evals.results import (
    AssertionResult,
    CaseRef,
    CaseResult,
    CaseSummary,
    ChatMessage,
    Outcome,
    Report,
    construct,
)
from evals.retry import RetryPolicy
from evals.run_errors import EvalConfigError
from evals.scoring import ResultTally, case_outcome, summarize_combination_tallies, summarize_tally
from evals.spool import CaseSummaries, ResultSpool
from evals.suite import UNPREPARED, AssertSpec, Case, CaseFacts, ModelSpec, Suite
from evals.templates import DEFAULT_LIMITS, PromptRenderer, RenderError, TemplateLimits

ResultsCallback = Callable[[list[CaseResult]], Awaitable[None] | None]
"""Receives finished results in batches; may be plain or ``async``."""

_A = TypeVar("_A")


class RunOptions(BaseModel):
    """How to run a suite; every field has a default."""

    model_config = ConfigDict(frozen=True)

    provider: str | None = Field(
        default=None, description="Provider override, e.g. openai:gpt-4o-mini or offline; None: the suite's."
    )
    providers: tuple[str, ...] | None = Field(
        default=None,
        min_length=1,
        description="Providers to compare (every case runs on each, and on each of the suite's prompts); "
        "overrides `provider` and the suite's `providers`.",
    )
    concurrency: int = Field(default=20, ge=1, le=2000, description="Model calls in flight at once.")
    repeat: int | None = Field(default=None, ge=1, le=100, description="Repeat override for every case.")
    use_cache: bool = Field(default=True, description="Look answers up in (and store them to) the cache.")
    batch_size: int = Field(default=100, ge=1, description="Results per on_results call.")
    batch_interval_s: float = Field(
        default=0.5, gt=0, description="Longest a finished result waits before on_results sees it."
    )
    spool_results: bool = Field(
        default=False,
        description="Write finished results to a temporary file instead of holding them: the report then reads "
        "them back one at a time (its results and cases are sequences made on demand, not lists). For suites "
        "too big for memory; the CLI's `steward eval run` uses it.",
    )
    template_limits: TemplateLimits = Field(
        default=DEFAULT_LIMITS, description="What one render of a template may cost (integers, lengths, output, time)."
    )


@dataclass(slots=True)
class _PreparedAssert(Generic[_A]):
    type: str
    check: CheckFn[_A]
    prepared: _A
    weight: float
    args: dict[str, object]


@dataclass(slots=True)
class _CasePlan:
    case: Case
    vars: dict[str, object]
    # each assertion's prepared arguments have their own type (see the assertion registry)
    asserts: list[_PreparedAssert[Any]]
    messages: list[Message] | None = None
    report_messages: list[ChatMessage] = field(default_factory=list)
    render_error: str | None = None


@dataclass(slots=True)
class _Combination:
    """One prompt on one provider: its renderer, caller and judges."""

    prompt: str
    prompt_index: int
    """Which of the suite's prompts: a case has one plan per prompt (it holds the messages rendered with it)."""
    provider: Provider
    renderer: PromptRenderer
    main: ModelCaller
    judges: _Judges
    tag: tuple[str | None, str | None]
    """(prompt, provider) as results name the combination: (None, None) unless the run is a matrix."""


_Work = tuple[_Combination, _CasePlan, int]
"""One execution: a combination, a case's plan and the repeat index."""


def _case_result(
    case_id: str,
    repeat_index: int,
    *,
    outcome: Outcome = "error",
    score: float = 0.0,
    messages: list[ChatMessage] | None = None,
    output: str | None = None,
    assertions: list[AssertionResult] | None = None,
    latency_ms: float | None = None,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cost_usd: float | None = None,
    cached: bool = False,
    offline: bool = False,
    attempts: int = 0,
    error: str | None = None,
    tag: tuple[str | None, str | None] = (None, None),
) -> CaseResult:
    """A result built without validation (see :func:`construct`); every field not given is its default."""
    return construct(
        CaseResult,
        {
            "case_id": case_id,
            "repeat_index": repeat_index,
            "outcome": outcome,
            "score": score,
            "messages": [] if messages is None else messages,
            "output": output,
            "assertions": [] if assertions is None else assertions,
            "latency_ms": latency_ms,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "cost_usd": cost_usd,
            "cached": cached,
            "offline": offline,
            "attempts": attempts,
            "error": error,
            "prompt": tag[0],
            "provider": tag[1],
        },
    )


def _assertion_result(item: _PreparedAssert[Any], outcome: Outcome, score: float, reason: str) -> AssertionResult:
    return construct(
        AssertionResult,
        {
            "type": item.type,
            "args": item.args,
            "outcome": outcome,
            "score": score,
            "reason": reason,
            "weight": item.weight,
        },
    )


def _error_reason(exc: Exception, assertion_type: str) -> str:
    """Why an assertion could not decide, for its ``error`` outcome."""
    if isinstance(exc, ProviderError):
        # only two kinds of assertion call a model: similar (embeddings) and llm-rubric (a judge)
        call = "embeddings" if assertion_type.endswith("similar") else "judge"
        return f"{call} call failed: {exc}"
    return str(exc) if isinstance(exc, (ValueError, RenderError)) else f"{type(exc).__name__}: {exc}"


def _prepare(spec: AssertSpec) -> _PreparedAssert[Any]:
    definition = get_assertion(spec.type)
    if definition is None:
        raise EvalConfigError("asserts", f"unknown assertion {spec.type!r}")
    prepared = spec._prepared
    if prepared is UNPREPARED:
        prepared = spec._prepared = definition.prepare(spec)
    args: dict[str, object] = {
        k: v
        for k, v in (
            ("value", spec.value),
            ("threshold", spec.threshold),
            ("metric", spec.metric),
            ("provider", spec.provider),
            ("method", spec.method),
        )
        if v is not None
    }
    return _PreparedAssert(spec.type, definition.check, prepared, spec.weight, args)


def _select(suite: Suite, case_ids: Sequence[str] | None) -> Sequence[Case]:
    """The cases to run: every case, or those named, in suite order (a spooled suite stays spooled)."""
    cases = suite.cases
    spooled = isinstance(cases, SpooledCases)
    if case_ids is None:
        return cases if spooled else list(cases)
    ids = list(cases.ids) if isinstance(cases, SpooledCases) else [case.id for case in cases]
    known = set(ids)
    unknown = [cid for cid in case_ids if cid not in known]
    if unknown:
        raise EvalConfigError("case_ids", f"unknown case ids: {', '.join(unknown[:10])}")
    wanted = set(case_ids)
    chosen = [n for n, case_id in enumerate(ids) if case_id in wanted]
    return cases.select(chosen) if isinstance(cases, SpooledCases) else [cases[n] for n in chosen]


class _Planner:
    """Makes a case's plan: its vars merged and assertions prepared (the suite's default asserts after its own).

    Called when a worker takes a case's first execution, not for every case up front, so a run holds
    the plans of the cases in flight. A case with nothing to merge keeps its own vars; an assertion
    shared by cases in memory (see the suite loader) is prepared once. A spooled suite's cases are
    read afresh, so their assertions are new objects each time and are prepared per case: caching
    them by ``id`` would hold every one of them (and an id is reused once its object is freed).
    """

    def __init__(self, suite: Suite, cases: Sequence[Case], extra_vars: Mapping[str, object] | None) -> None:
        self.default_asserts = [_prepare(spec) for spec in suite.defaults.asserts]
        self.base_vars = {**suite.vars, **suite.defaults.vars}
        self.extra = dict(extra_vars or {})
        self.prepared: dict[int, _PreparedAssert[Any]] | None = None if isinstance(cases, SpooledCases) else {}
        if self.prepared is not None:
            # a suite built without the loader may name an assertion that does not exist: say so before any call
            # (a spooled suite's were checked as it was loaded)
            unknown = sorted({s.type for case in cases for s in case.asserts if get_assertion(s.type) is None})
            if unknown:
                raise EvalConfigError("asserts", f"unknown assertion {unknown[0]!r}")

    def prepare(self, spec: AssertSpec) -> _PreparedAssert[Any]:
        if self.prepared is None:
            return _prepare(spec)
        item = self.prepared.get(id(spec))
        if item is None:
            item = self.prepared[id(spec)] = _prepare(spec)
        return item

    def __call__(self, case: Case) -> _CasePlan:
        base_vars, extra = self.base_vars, self.extra
        return _CasePlan(
            case,
            {**base_vars, **case.vars, **extra} if base_vars or extra else case.vars,
            [self.prepare(s) for s in case.asserts] + self.default_asserts,
        )


class _WorkPlan:
    """Every execution of the run, in plan order: case-major (a case's combinations one after another, each
    combination's repeats together), so a cancelled matrix has whole rows.

    Iterating plans each case as it reaches it (see :class:`_Planner`); the counts and the executions'
    names (:meth:`refs`) come from the cases' facts, without reading spooled cases.
    """

    def __init__(
        self,
        cases: Sequence[Case],
        combinations: list[_Combination],
        planner: _Planner,
        repeat: int | None,
    ) -> None:
        self.cases = cases
        self.facts: Sequence[CaseFacts] = case_facts(cases)
        self.combinations = combinations
        self.planner = planner
        self.repeat = repeat
        self.prompts = max(c.prompt_index for c in combinations) + 1
        self.size = sum(repeat or f.repeat for f in self.facts) * len(combinations)

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[tuple[int, _Work]]:
        index = 0
        for case in self.cases:
            first = self.planner(case)
            # each prompt renders its own messages; vars and prepared assertions are shared
            plans = [first] + [_CasePlan(case, first.vars, first.asserts) for _ in range(1, self.prompts)]
            repeats = self.repeat or case.repeat
            for combination in self.combinations:
                plan = plans[combination.prompt_index]
                for r in range(repeats):
                    yield index, (combination, plan, r)
                    index += 1

    def refs(self) -> Iterator[tuple[int, str, int, _Combination]]:
        """(index, case id, repeat index, combination) of every execution, in plan order."""
        index = 0
        for facts in self.facts:
            repeats = self.repeat or facts.repeat
            for combination in self.combinations:
                for r in range(repeats):
                    yield index, facts.id, r, combination
                    index += 1


def _call_parameters(model: ModelSpec) -> CallParameters:
    parameters: CallParameters = {}
    if model.temperature is not None:
        parameters["temperature"] = model.temperature
    if model.max_tokens is not None:
        parameters["max_tokens"] = model.max_tokens
    if model.seed is not None:
        parameters["seed"] = model.seed
    return parameters


def _main_provider(suite: Suite, provider_spec: str, config: ProviderConfig) -> Provider:
    """The provider that answers the cases; the offline one answers with the suite's scripted outputs."""
    scripted = dict(suite.fixture_outputs)
    if isinstance(suite.cases, SpooledCases):
        scripted.update(suite.cases.offline_outputs)
    else:
        scripted.update({c.id: c.offline_output for c in suite.cases if c.offline_output is not None})
    try:
        return create_provider(provider_spec, config, default_model=suite.model.name, scripted=scripted)
    except ProviderSetupError as exc:
        raise EvalConfigError("provider", str(exc)) from None


def _judge_template(suite: Suite, cases: Sequence[Case], config: ProviderConfig) -> str | None:
    """The llm-rubric judge prompt, read only when some case has an llm-rubric assertion."""
    # a spooled suite knows the assertion types of all its cases without reading them (a selection's too)
    types = (
        cases.assertion_types if isinstance(cases, SpooledCases) else {a.type for case in cases for a in case.asserts}
    )
    if "llm-rubric" not in types and not any(a.type == "llm-rubric" for a in suite.defaults.asserts):
        return None
    try:
        return load_judge_prompt(config.judge_prompts_dir)
    except OSError as exc:
        raise EvalConfigError("judge_prompts_dir", f"cannot read the llm-rubric judge prompt: {exc}") from None


class _Judges:
    """Picks the judge for each llm-rubric: the configured one, or the assertion's own provider."""

    def __init__(self, default_spec: str, make_caller: Callable[[str], ModelCaller], template: str | None) -> None:
        self.default_spec = default_spec
        self._make_caller = make_caller
        self._template = template
        self._judges: dict[str, ModelJudge | OfflineJudge] = {}
        self.used_offline = False
        self.used = False

    async def __call__(self, *, rubric: str, output: str, vars: Mapping[str, object], spec: JudgeOptions) -> Verdict:
        judge_spec = spec.provider or self.default_spec
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
        self.parameters = _call_parameters(suite.model)
        self.providers: list[Provider] = []
        self.callers: list[ModelCaller] = []
        self.results: list[tuple[int, CaseResult]] = []
        self.spool: ResultSpool | None = None
        self.tally = ResultTally(())
        self.combination_tallies: dict[tuple[str | None, str | None], ResultTally] = {}
        self.done = bytearray()
        self.batch: list[CaseResult] = []
        self.last_flush = time.monotonic()
        self.flush_lock = asyncio.Lock()
        self.fatal: str | None = None
        self.stop = asyncio.Event()
        self.embeddings: RunEmbeddings | None = None

    def caller(self, provider: Provider, parameters: CallParameters) -> ModelCaller:
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

    def render(self, plan: _CasePlan, renderer: PromptRenderer) -> tuple[list[Message], list[ChatMessage]] | None:
        """The plan's messages (to send, and as reports show them); None when rendering failed (``render_error``).

        A case that repeats keeps its rendering for the next repeat; one that runs once renders into its
        execution only, so a big suite does not hold every case's messages at once.
        """
        if plan.messages is not None:
            return plan.messages, plan.report_messages
        if plan.render_error is not None:
            return None
        try:
            messages = renderer.render(plan.vars)
        except RenderError as exc:
            plan.render_error = f"template error: {exc}"
            return None
        report_messages = [construct(ChatMessage, {"role": m["role"], "content": m["content"]}) for m in messages]
        if (self.options.repeat or plan.case.repeat) > 1:
            plan.messages, plan.report_messages = messages, report_messages
        return messages, report_messages

    async def execute(self, combination: _Combination, plan: _CasePlan, repeat_index: int) -> CaseResult:
        case = plan.case
        main, tag = combination.main, combination.tag
        offline = main.provider.offline
        rendered = self.render(plan, combination.renderer)
        if rendered is None:
            return _case_result(
                case.id, repeat_index, outcome="error", error=plan.render_error, offline=offline, tag=tag
            )
        messages, report_messages = rendered
        try:
            answer = await main.call(messages, case_id=case.id, sample=repeat_index)
        except ProviderError as exc:
            return _case_result(
                case.id,
                repeat_index,
                outcome="error",
                messages=report_messages,
                error=f"provider error: {exc}",
                offline=offline,
                attempts=self.policy.max_retries + 1,
                tag=tag,
            )
        # an offline provider's answers are graded without network: local embedding models only
        embed = self.embeddings.without_network() if offline and self.embeddings is not None else self.embeddings
        ctx = AssertionContext(answer.latency_ms, answer.cost_usd, plan.vars, combination.judges, embed)
        verdicts = await self.grade(plan, answer.text, ctx)
        outcome, score = case_outcome(verdicts, case.threshold)
        return _case_result(
            case.id,
            repeat_index,
            outcome=outcome,
            score=score,
            messages=report_messages,
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
            tag=tag,
        )

    async def grade(self, plan: _CasePlan, output: str, ctx: AssertionContext) -> list[AssertionResult]:
        """Every assertion's verdict on ``output``; one that cannot decide is an error, never a pass."""
        verdicts = []
        for item in plan.asserts:
            try:
                checked = item.check(output, item.prepared, ctx)
                verdict = checked if isinstance(checked, Verdict) else await checked
                verdicts.append(
                    _assertion_result(
                        item, "passed" if verdict.passed else "failed", float(verdict.score), verdict.reason
                    )
                )
            except ProviderUnreachable:
                raise  # a judge no call can reach stops the run, as the cases' own provider does
            except Exception as exc:
                verdicts.append(_assertion_result(item, "error", 0.0, _error_reason(exc, item.type)))
        return verdicts

    async def execute_all(self, work: _WorkPlan, cancel: asyncio.Event | None) -> bool:
        """Run ``work`` with ``concurrency`` workers until done, stopped or cancelled; True if cancelled."""
        items = iter(work)
        tasks = [
            asyncio.create_task(self.worker(items)) for _ in range(min(self.options.concurrency, max(1, len(work))))
        ]
        everything = asyncio.gather(*tasks)
        stoppers = [asyncio.create_task(self.stop.wait())]
        if cancel is not None:
            stoppers.append(asyncio.create_task(cancel.wait()))
        cancelled = False
        waiting: list[asyncio.Future[list[None]] | asyncio.Task[Literal[True]]] = [everything, *stoppers]
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if not everything.done():
                cancelled = cancel is not None and cancel.is_set()
                for worker in tasks:
                    worker.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            elif (failure := everything.exception()) is not None:
                raise failure
        finally:
            for task in (*tasks, *stoppers):
                task.cancel()
            await asyncio.gather(*tasks, *stoppers, return_exceptions=True)
            if everything.done() and not everything.cancelled():
                everything.exception()  # retrieved, so asyncio does not warn about it
            await self.close()
        return cancelled

    async def worker(self, items: Iterator[tuple[int, _Work]]) -> None:
        """Executes items from the shared iterator until it is exhausted or the run stops."""
        for index, (combination, plan, repeat_index) in items:
            if self.stop.is_set():
                return
            try:
                result = await self.execute(combination, plan, repeat_index)
            except ProviderUnreachable as exc:
                self.fatal = f"provider {exc.provider} unreachable: {exc}; no call has reached it, so the run stopped"
                self.stop.set()
                return
            except ProviderSetupError as exc:
                self.fatal = f"provider cannot start: {exc}"
                self.stop.set()
                return
            await self.record(index, result)

    def plan(self, cases: Sequence[CaseFacts], work: _WorkPlan, combinations: list[_Combination]) -> None:
        """Where results go: running tallies for the summary, and a list or (``spool_results``) a spool."""
        self.tally = ResultTally(cases)
        if len(combinations) > 1:
            self.combination_tallies = {c.tag: ResultTally(cases, self.tally.positions) for c in combinations}
        self.done = bytearray(len(work))
        if self.options.spool_results:
            self.spool = ResultSpool(len(work))

    async def record(self, index: int, result: CaseResult) -> None:
        self.done[index] = 1
        self.tally.add(result, index)
        if self.combination_tallies:
            self.combination_tallies[(result.prompt, result.provider)].add(result, index)
        if self.spool is not None:
            self.spool.add(index, result)
        else:
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
        if self.embeddings is not None:
            with contextlib.suppress(Exception):
                await self.embeddings.aclose()
        for provider in self.providers:
            # closing is best effort; the report is what matters now
            with contextlib.suppress(Exception):
                await provider.aclose()
        flush = getattr(self.cache, "flush", None)
        if callable(flush):
            flush()

    def report(
        self,
        cases: Sequence[CaseFacts],
        work: _WorkPlan,
        combinations: list[_Combination],
        *,
        started_at: datetime,
        clock: float,
        cancelled: bool,
    ) -> Report:
        """The report of the finished (or stopped) run: results in plan order, unfinished work under not_run."""
        self.results.sort(key=lambda pair: pair[0])
        results = [result for _, result in self.results] if self.spool is None else self.spool
        self.results = []
        not_run = [
            CaseRef.model_construct(case_id=case_id, repeat_index=r, prompt=combo.tag[0], provider=combo.tag[1])
            for index, case_id, r, combo in work.refs()
            if not self.done[index]
        ]
        providers = list(dict.fromkeys(spec_name(c.provider) for c in combinations))
        judges = list({id(c.judges): c.judges for c in combinations}.values())
        judge_specs = list(dict.fromkeys(j.default_spec for j in judges if j.used))
        summary = summarize_tally(
            cases,
            self.tally,
            planned_runs=len(work),
            not_run=not_run,
            threshold=self.suite.threshold.pass_rate,
            provider=", ".join(providers),
            offline=any(c.provider.offline for c in combinations),
            # the offline provider answers in-process: like the server's summary, it counts no provider call
            provider_calls=sum(c.provider_calls for c in self.callers if not c.provider.offline),
            duration_s=time.perf_counter() - clock,
            judge_provider=", ".join(judge_specs) or None,
            judge_offline=any(j.used_offline for j in judges),
            cancelled=cancelled,
            error=self.fatal or ("cancelled before every case ran" if cancelled else None),
        )
        if len(combinations) > 1:
            summary.combinations = summarize_combination_tallies(
                cases,
                self.combination_tallies,
                combinations=[(c.prompt, spec_name(c.provider), c.provider.offline) for c in combinations],
                runs_per_combination=len(work) // len(combinations),
                not_run=not_run,
                threshold=self.suite.threshold.pass_rate,
            )
            if summary.status == "passed" and any(c.status != "passed" for c in summary.combinations):
                summary.status = "failed"
        return Report.model_construct(
            version=1,
            suite=self.suite.name,
            suite_description=self.suite.description,
            started_at=started_at.isoformat(timespec="seconds"),
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
            summary=summary,
            comparison=None,
            # spooled, both are sequences read on demand, not lists (see RunOptions.spool_results)
            cases=self.tally.case_summaries(cases)
            if self.spool is None
            else cast(list[CaseSummary], CaseSummaries(cases, self.tally)),
            not_run=not_run,
            results=results if isinstance(results, list) else cast(list[CaseResult], results),
        )


async def run_suite(
    suite: Suite,
    *,
    templates: Mapping[str, str],
    extra_vars: Mapping[str, object] | None = None,
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
    facts = case_facts(cases)
    run = _Run(suite, options, provider_config, cache, on_results)
    planner = _Planner(suite, cases, extra_vars)
    combinations = _combinations(run, suite, templates, cases, _provider_specs(suite, options))
    # an offline run makes no network calls, embeddings included; the client connects (and a local model loads)
    # on first use only
    online = any(not c.provider.offline for c in combinations)
    run.embeddings = RunEmbeddings(OpenAIEmbeddings(provider_config) if online else None)
    # case-major order: a case's combinations finish close together, so its side-by-side row fills early
    work = _WorkPlan(cases, combinations, planner, options.repeat)
    run.plan(facts, work, combinations)
    cancelled = await run.execute_all(work, cancel)
    await run.flush()
    report = run.report(facts, work, combinations, started_at=started_at, clock=clock, cancelled=cancelled)
    plan = suite._fairness_plan
    if plan is None or case_ids is not None:
        # a chunk holds only some variants: fairness is judged on the whole run (see evals.fairness)
        return report
    # In a matrix, fairness is judged on the first combination (the suite's first prompt on its first provider):
    # the paired tests compare the groups' answers from one model and one prompt.
    first = combinations[0]
    planned: dict[str, int] = {}
    for _, case_id, _, combination in work.refs():
        if combination is first:
            planned[case_id] = planned.get(case_id, 0) + 1
    judged = [r for r in report.results if (r.prompt, r.provider) == first.tag]
    try:
        fairness = await analyse(plan, judged, offline=first.provider.offline, planned=planned, embed=run.embeddings)
    finally:
        if run.embeddings is not None:
            await run.embeddings.aclose()
    return report.model_copy(update={"fairness": fairness, "summary": with_fairness(report.summary, fairness)})


def _provider_specs(suite: Suite, options: RunOptions) -> list[str]:
    """The providers every case runs on: the run's, else the suite's ``providers``, else its ``model``'s."""
    if options.providers:
        specs = list(options.providers)
    elif options.provider:
        specs = [options.provider]
    else:
        specs = list(suite.providers or [suite.model.provider])
    repeated = sorted({spec for spec in specs if specs.count(spec) > 1})
    if repeated:
        raise EvalConfigError("providers", f"listed more than once: {', '.join(repeated)}")
    return specs


def _combinations(
    run: _Run, suite: Suite, templates: Mapping[str, str], cases: Sequence[Case], provider_specs: list[str]
) -> list[_Combination]:
    """Every prompt on every provider, prompt-major; one provider (and its judges) per spec, shared by prompts."""
    prompts = suite.prompt_names
    renderers = {name: PromptRenderer(suite, templates, run.options.template_limits, prompt=name) for name in prompts}
    template = _judge_template(suite, cases, run.config)
    callers: list[tuple[Provider, ModelCaller, _Judges]] = []
    for spec in provider_specs:
        provider = _main_provider(suite, spec, run.config)
        judge_spec = run.config.judge or (spec if ":" in spec else spec_name(provider))
        callers.append(
            (provider, run.caller(provider, run.parameters), _Judges(judge_spec, run.judge_caller, template))
        )
    matrix = len(prompts) * len(callers) > 1
    combinations = []
    for n, name in enumerate(prompts):
        for provider, main, judges in callers:
            tag = (name, spec_name(provider)) if matrix else (None, None)
            combinations.append(_Combination(name, n, provider, renderers[name], main, judges, tag))
    labels = [c.tag for c in combinations]
    if len(set(labels)) < len(labels):
        raise EvalConfigError("providers", "two providers name the same model: " + ", ".join(map(str, labels)))
    return combinations


def run_suite_sync(
    suite: Suite,
    *,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
    templates: Mapping[str, str],
    extra_vars: Mapping[str, object] | None = None,
    options: RunOptions,
    provider_config: ProviderConfig,
    cache: ResponseCache | None = None,
    on_results: ResultsCallback | None = None,
    case_ids: Sequence[str] | None = None,
    cancel: asyncio.Event | None = None,
) -> Report:
    """:func:`run_suite` for synchronous callers; ``loop_factory`` may supply e.g. uvloop's loop."""
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(
            run_suite(
                suite,
                templates=templates,
                extra_vars=extra_vars,
                options=options,
                provider_config=provider_config,
                cache=cache,
                on_results=on_results,
                case_ids=case_ids,
                cancel=cancel,
            )
        )
