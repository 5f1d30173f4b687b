"""Health of the parts the workbench depends on, for the Settings page and scripts."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import lru_cache

from pydantic import BaseModel
from sqlalchemy import text
from sqlmodel import select

from core.config import get_settings
from core.db import get_engine, session, utcnow
from core.models import WorkerBeat

log = logging.getLogger(__name__)


class Check(BaseModel):
    name: str
    ok: bool
    detail: str


def check_database() -> Check:
    try:
        engine = get_engine()
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return Check(name="Database", ok=True, detail=f"{engine.dialect.name}: "
                     f"{engine.url.render_as_string(hide_password=True)}")
    except Exception as exc:  # health checks report every failure as text
        return Check(name="Database", ok=False, detail=f"unreachable: {exc}")


def check_broker() -> Check:
    settings = get_settings()
    if settings.embedded:
        return Check(name="Broker", ok=True, detail="embedded: in-process Dramatiq worker (no Redis)")
    try:
        import redis

        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2).ping()
        return Check(name="Broker", ok=True, detail=f"Redis at {settings.redis_url}")
    except Exception as exc:
        return Check(name="Broker", ok=False, detail=f"Redis unreachable at {settings.redis_url}: {exc}")


def beat_interval_s() -> float:
    """How often workers beat: a third of JOB_HEARTBEAT_TIMEOUT_S, between 0.5 and 10 s."""
    return min(10.0, max(0.5, get_settings().job_heartbeat_timeout_s / 3))


def live_workers(max_age_s: float | None = None) -> list[WorkerBeat]:
    """Workers whose heartbeat is recent (within three beats)."""
    max_age = max_age_s if max_age_s is not None else 3 * beat_interval_s() + 5
    cutoff = utcnow() - timedelta(seconds=max_age)
    with session() as s:
        return list(s.exec(select(WorkerBeat).where(WorkerBeat.last_seen >= cutoff)).all())


def check_workers() -> Check:
    try:
        workers = live_workers()
    except Exception as exc:
        return Check(name="Workers", ok=False, detail=f"cannot read heartbeats: {exc}")
    if not workers:
        hint = "start them with `make worker`" if not get_settings().embedded else "the app starts one"
        return Check(name="Workers", ok=False, detail=f"no live worker ({hint})")
    names = ", ".join(f"{w.hostname} pid {w.pid} ({w.mode})" for w in workers)
    return Check(name="Workers", ok=True, detail=f"{len(workers)} alive: {names}")


def check_vector_store() -> Check:
    settings = get_settings()
    if not settings.chroma_host:
        return Check(name="Vector store", ok=True,
                     detail=f"embedded Chroma under {settings.data_dir.resolve() / 'chroma'}")
    import httpx

    url = f"http://{settings.chroma_host}:{settings.chroma_port}/api/v2/heartbeat"
    try:
        httpx.get(url, timeout=3).raise_for_status()
        return Check(name="Vector store", ok=True, detail=f"Chroma server at {settings.chroma_host}:{settings.chroma_port}")
    except Exception as exc:
        return Check(name="Vector store", ok=False, detail=f"Chroma server unreachable ({url}): {exc}")


def check_llm() -> Check:
    settings = get_settings()
    if settings.openai_api_key is None:
        return Check(name="LLM", ok=True, detail="offline planner (no OPENAI_API_KEY set)")
    base = settings.openai_base_url or "https://api.openai.com/v1"
    return Check(name="LLM", ok=True, detail=f"model {settings.llm_model} at {base}")


@lru_cache(maxsize=1)
def gpu_description() -> str:
    """What torch sees: the CUDA device names, or why there is none."""
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        return f"no GPU visible to torch {torch.__version__} (CPU only)"
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return f"{len(names)} GPU(s): {', '.join(names)} (torch {torch.__version__})"


def check_gpu() -> Check:
    description = gpu_description()
    return Check(name="GPU", ok="GPU(s)" in description, detail=description)


CHECKS = (check_database, check_broker, check_workers, check_vector_store, check_llm, check_gpu)


def health() -> list[Check]:
    """Every check, in the order the Settings page shows them."""
    return [check() for check in CHECKS]
