"""Steward's eval engine: suites, assertions, providers, runner, cache and reports."""
