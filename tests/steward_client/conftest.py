"""The fake OpenAI-compatible server of the worker tests, for the README's chat example."""

from tests.service.workers.conftest import fake_model  # noqa: F401  (a fixture)
