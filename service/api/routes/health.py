from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness check (no authentication).")
def healthz() -> dict[str, str]:
    """Liveness check (no authentication)."""
    # Deliberately sync (a thread-pool trip): as a coroutine it answered twice as fast at 50 connections but, at
    # 200, starved some connections past wrk's 5 s timeout (bench/README.md, "Load").
    return {"status": "ok"}
