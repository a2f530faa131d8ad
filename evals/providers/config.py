"""Provider configuration the caller builds (the engine reads no environment), and the price table."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class ModelPrice(BaseModel):
    """What a model costs, in US dollars per million tokens."""

    model_config = ConfigDict(frozen=True)

    input_per_mtok: float = Field(ge=0, description="USD per million prompt tokens.")
    output_per_mtok: float = Field(ge=0, description="USD per million completion tokens.")


# Published list prices when written; callers override or extend them with ProviderConfig.prices.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o": ModelPrice(input_per_mtok=2.50, output_per_mtok=10.00),
    "gpt-4o-mini": ModelPrice(input_per_mtok=0.15, output_per_mtok=0.60),
    "gpt-4.1": ModelPrice(input_per_mtok=2.00, output_per_mtok=8.00),
    "gpt-4.1-mini": ModelPrice(input_per_mtok=0.40, output_per_mtok=1.60),
    "gpt-4.1-nano": ModelPrice(input_per_mtok=0.10, output_per_mtok=0.40),
    "gpt-5": ModelPrice(input_per_mtok=1.25, output_per_mtok=10.00),
    "gpt-5-mini": ModelPrice(input_per_mtok=0.25, output_per_mtok=2.00),
    "gpt-5-nano": ModelPrice(input_per_mtok=0.05, output_per_mtok=0.40),
    "o3-mini": ModelPrice(input_per_mtok=1.10, output_per_mtok=4.40),
    "gpt-3.5-turbo": ModelPrice(input_per_mtok=0.50, output_per_mtok=1.50),
}


# gpt-4o-mini-2024-07-18 and gpt-4-0613 cost what their base model costs
_SNAPSHOT_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{4})$")


class ProviderConfig(BaseModel):
    """How to reach model providers; built by the caller (CLI from settings, server from its config)."""

    model_config = ConfigDict(frozen=True)

    openai_base_url: str | None = Field(
        default=None, description="OpenAI-compatible base URL; None: OPENAI_BASE_URL, else https://api.openai.com/v1."
    )
    openai_api_key: SecretStr | None = Field(default=None, description="API key; None: OPENAI_API_KEY.")
    timeout_s: float = Field(default=60.0, gt=0, description="Per-call timeout in seconds.")
    max_retries: int = Field(default=4, ge=0, description="Retries after the first attempt on 429/5xx/timeouts.")
    backoff_initial_s: float = Field(default=1.0, ge=0, description="First backoff delay; doubles per retry.")
    backoff_max_s: float = Field(default=60.0, ge=0, description="Longest backoff or Retry-After honoured.")
    requests_per_minute: int | None = Field(default=None, gt=0, description="Request rate limit per provider.")
    tokens_per_minute: int | None = Field(default=None, gt=0, description="Token rate limit per provider.")
    prices: dict[str, ModelPrice] = Field(
        default_factory=dict, description="Price overrides by model name, merged over the defaults."
    )
    judge: str | None = Field(
        default=None, description="Judge provider for llm-rubric, e.g. openai:gpt-4o-mini; None: the run's."
    )
    judge_prompts_dir: Path | None = Field(
        default=None, description="Folder of judge prompts; None: the repository's prompts/judges."
    )

    def price_of(self, model: str) -> ModelPrice | None:
        """The price of ``model``: overrides first, and a dated snapshot falls back to its base name."""
        for name in (model, _SNAPSHOT_SUFFIX.sub("", model)):
            for table in (self.prices, DEFAULT_PRICES):
                if name in table:
                    return table[name]
        return None

    def cost_of(self, model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
        """USD cost of one call, or None when the model has no price."""
        price = self.price_of(model)
        if price is None:
            return None
        return (prompt_tokens * price.input_per_mtok + completion_tokens * price.output_per_mtok) / 1_000_000
