"""The one place that reads the environment: every setting has the ``STEWARD_`` prefix."""

from __future__ import annotations

import contextlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from evals.templates import TemplateLimits

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Local state (the SQLite database, the generated secret key, demo tokens) is for this user's eyes only.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if missing; a directory created here is 0700. An existing one is left as is."""
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another process made it first
            path.mkdir(mode=PRIVATE_DIR_MODE)
    return path


class Settings(BaseSettings):
    """Steward's configuration, read from ``STEWARD_*`` environment variables or a ``.env`` file."""

    model_config = SettingsConfigDict(env_prefix="STEWARD_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'steward.db'}",
        description="SQLAlchemy URL; SQLite by default, e.g. postgresql+psycopg://user@host/db.",
    )
    db_pool_size: int = Field(
        default=8,
        ge=1,
        le=200,
        description="Requests `steward serve` lets use the database at once, each with its own pooled connection; "
        "the others wait their turn.",
    )
    db_write_slots: int = Field(
        default=2,
        ge=1,
        le=200,
        description="Of those, how many requests that write may use the database at once (writes take turns on one "
        "lock anyway); reads have the rest, so they never queue behind a burst of writes.",
    )
    db_pool_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Longest a request waits for its turn at the database before it is answered 503 with Retry-After.",
    )
    host: str = Field(default="127.0.0.1", description="Interface `steward serve` binds to.")
    port: int = Field(default=8000, description="Port `steward serve` listens on.")
    var_dir: Path = Field(default=PROJECT_ROOT / "var", description="Where local state lives.")
    prompts_dir: Path = Field(
        default=PROJECT_ROOT / "prompts", description="Prompt templates: the reference product, the judges."
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, description="Largest request body (and component content) accepted; 413 above."
    )
    page_limit_max: int = Field(default=200, description="Largest `limit` a list endpoint accepts.")
    web_session_idle_minutes: int = Field(
        default=60, ge=1, le=24 * 60, description="A browser session left unused this long ends; sign in again."
    )

    server_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Server that `steward apply` talks to when --server is not given.",
    )
    token: SecretStr | None = Field(
        default=None, description="API token `steward apply` sends when --token is not given."
    )

    openai_base_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible API; the SDK reads OPENAI_BASE_URL if unset.",
    )
    openai_api_key: SecretStr | None = Field(
        default=None,
        description="API key for the OpenAI-compatible API; the SDK reads OPENAI_API_KEY if unset.",
    )
    judge_provider: str | None = Field(
        default=None,
        description="Provider for llm-rubric judges, e.g. openai:gpt-4o-mini; defaults to the run's.",
    )
    eval_cache_path: Path | None = Field(
        default=None, description="SQLite response cache for local eval runs; default var/eval-cache.sqlite."
    )
    eval_concurrency: int = Field(default=20, description="Default number of concurrent model calls per run.")
    template_max_output_bytes: int = Field(
        default=1024 * 1024, ge=1, description="Largest rendered prompt (UTF-8 bytes); a case over it is an error."
    )
    template_max_render_seconds: float = Field(
        default=10.0, gt=0, le=300, description="Longest one render of a prompt may run; a case over it is an error."
    )

    view_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description=(
            "How long a release or product read may be answered from a view this server built, while the audit "
            "trail's head has not moved; 0: never (see service/api/view_cache.py)."
        ),
    )
    live_pointer_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="How long a server remembers which release is live and whether it is stopped; 0: never.",
    )
    live_cache_control: str = Field(
        default="private, max-age=60, stale-while-revalidate=300",
        max_length=200,
        description="Cache-Control of GET /products/{slug}/live: how long a running product may reuse what it fetched.",
    )

    secret_key: SecretStr | None = Field(
        default=None,
        description="Server secret webhook signing secrets derive from; if unset, generated once into var/secret_key.",
    )
    signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PKCS#8 PEM) that signs audit checkpoints and live-release attestations; "
        "if unset, generated once "
        "into var/signing_key.",
    )
    audit_checkpoint_minutes: int = Field(
        default=60,
        ge=0,
        le=7 * 24 * 60,
        description="The notification pump writes a signed audit checkpoint this often; 0 turns it off.",
    )
    audit_checkpoint_dir: Path | None = Field(
        default=None,
        description="Where periodic audit checkpoints are written; default var/checkpoints. Point it at storage "
        "the database's admins cannot write.",
    )
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, description="Time limit of one webhook POST.")
    webhook_max_attempts: int = Field(default=8, ge=1, description="Attempts before a webhook delivery is failed.")
    webhook_retry_base_seconds: float = Field(
        default=30.0, gt=0, description="First webhook retry delay; doubles per attempt with jitter, at most 1 hour."
    )
    webhook_allow_private_addresses: bool = Field(
        default=False,
        description="Allow webhooks to loopback, private, link-local or reserved addresses (off: no SSRF inward).",
    )

    executor: Literal["embedded", "celery", "none"] = Field(
        default="embedded",
        description="Who executes queued runs: threads in the server (embedded), Celery workers, or none (tests).",
    )
    broker_url: SecretStr | None = Field(
        default=None,
        description="Celery broker for STEWARD_EXECUTOR=celery and `steward worker`: redis://... or amqp://...",
    )
    chunk_size: int = Field(default=50, ge=1, le=10_000, description="Cases per chunk: the unit a worker leases.")
    lease_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="How long a chunk's lease lasts without renewal before another worker may take the chunk over.",
    )
    worker_concurrency: int | None = Field(
        default=None,
        ge=1,
        le=2000,
        description="Concurrent model calls per chunk in a worker; default: STEWARD_EVAL_CONCURRENCY.",
    )
    embedded_workers: int = Field(
        default=2, ge=1, le=64, description="Chunks the embedded executor runs at once inside the server."
    )
    embedded_process: bool = Field(
        default=True,
        description="Run the embedded executor in a child process of the server (at a lower CPU priority), so suite "
        "runs never hold the interpreter lock that requests need; off: threads of the server process.",
    )
    embedded_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="How much lower the executor process's CPU priority is than the server's (Unix nice).",
    )
    executor_poll_seconds: float = Field(
        default=2.0,
        gt=0,
        le=300,
        description="How often the embedded executor looks for queued chunks it was not told about.",
    )

    feedback_retention_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="Days production feedback keeps its comment, input and output; then only the counts remain.",
    )
    technical_file_retention_years: int = Field(
        default=10,
        ge=1,
        le=100,
        description="Years a release's frozen technical file is kept after go-live (AI Act Art. 18: 10 years); "
        "`steward technical-file purge` deletes only older ones.",
    )
    schedule_seconds: float = Field(
        default=600.0,
        ge=1,
        le=86_400,
        description="How often scheduled work runs (due re-certifications, feedback retention): "
        "in the embedded executor, or Celery beat with `steward worker --beat`.",
    )

    @property
    def resolved_worker_concurrency(self) -> int:
        return self.worker_concurrency or self.eval_concurrency

    @property
    def template_limits(self) -> TemplateLimits:
        """What one render of a prompt may cost, with the caps the settings name and the sandbox's own for the rest."""
        from evals.templates import TemplateLimits  # imported here: the eval engine is heavy for the CLI's start

        return TemplateLimits(
            max_output_bytes=self.template_max_output_bytes, max_render_seconds=self.template_max_render_seconds
        )

    @property
    def resolved_audit_checkpoint_dir(self) -> Path:
        return self.audit_checkpoint_dir or self.var_dir / "checkpoints"

    @property
    def resolved_eval_cache_path(self) -> Path:
        return self.eval_cache_path or self.var_dir / "eval-cache.sqlite"


@lru_cache
def get_settings() -> Settings:
    return Settings()
