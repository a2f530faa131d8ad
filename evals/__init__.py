"""Steward's eval engine: suites, assertions, providers, runner, cache and reports.

It imports nothing else of Steward's and reads no environment variables: callers pass
configuration in (:class:`ProviderConfig`, :class:`RunOptions`).
"""

from evals.assertions import AssertionContext, Verdict, assertion
from evals.cache import MemoryResponseCache, ResponseCache, SQLiteResponseCache, cache_key
from evals.providers import ModelPrice, ProviderConfig, provider
from evals.results import (
    AssertionResult,
    CaseRef,
    CaseResult,
    CaseSummary,
    CombinationSummary,
    Comparison,
    Report,
    Summary,
    report_json_schema,
)
from evals.run_errors import EvalConfigError
from evals.runner import RunOptions, run_suite, run_suite_sync
from evals.scoring import summarize
from evals.suite import AssertSpec, Case, Suite
from evals.suite_errors import SuiteError, SuiteErrorDetail
from evals.suite_loader import load_suite, parse_suite, suite_json_schema
from evals.templates import TemplateLimits, check_syntax

__all__ = [
    "AssertSpec",
    "AssertionContext",
    "AssertionResult",
    "Case",
    "CaseRef",
    "CaseResult",
    "CaseSummary",
    "CombinationSummary",
    "Comparison",
    "EvalConfigError",
    "MemoryResponseCache",
    "ModelPrice",
    "ProviderConfig",
    "Report",
    "ResponseCache",
    "RunOptions",
    "SQLiteResponseCache",
    "Suite",
    "SuiteError",
    "SuiteErrorDetail",
    "Summary",
    "TemplateLimits",
    "Verdict",
    "assertion",
    "cache_key",
    "check_syntax",
    "load_suite",
    "parse_suite",
    "provider",
    "report_json_schema",
    "run_suite",
    "run_suite_sync",
    "suite_json_schema",
    "summarize",
]
