"""Executing queued runs: embedded in the server by default, Celery workers to scale out.

Both executors run every chunk through :func:`execute_chunk`; :func:`make_executor` picks one by
``STEWARD_EXECUTOR``.
"""

from service.workers.dispatch import Executor, NoExecutor, executor_lifespan, make_executor
from service.workers.execute import execute_chunk, new_worker_id

__all__ = ["Executor", "NoExecutor", "execute_chunk", "executor_lifespan", "make_executor", "new_worker_id"]
