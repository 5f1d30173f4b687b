"""compose.yaml: the services, healthchecks, volumes and variables of the deployed mode."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_services_are_the_deployed_mode() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "chroma", "app", "worker", "migrate", "scheduler"} <= set(services)
    assert services["scheduler"]["command"] == ["python", "-m", "jobs.scheduler"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")


def test_long_running_services_have_healthchecks_and_wait_on_healthy_dependencies() -> None:
    services = compose()["services"]
    for name in ("postgres", "redis", "chroma", "app", "worker", "scheduler"):
        assert "test" in services[name]["healthcheck"], name
    for name in ("app", "worker", "scheduler"):
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["redis"]["condition"] == "service_healthy"
        assert deps["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["python", "-m", "core.db"]


def test_worker_reserves_the_gpu_and_runs_dramatiq() -> None:
    worker = compose()["services"]["worker"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    assert worker["command"][:2] == ["dramatiq", "jobs.worker"]
    assert {"ml_tasks", "analysis_tasks", "default"} <= set(worker["command"])


def test_named_volumes_are_declared_and_used() -> None:
    data = compose()
    declared = set(data["volumes"])
    used = {v.split(":")[0] for s in data["services"].values() for v in s.get("volumes", [])}
    assert used and used <= declared


def test_every_variable_compose_uses_is_in_env_example() -> None:
    text = (ROOT / "compose.yaml").read_text()
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    example = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), flags=re.M))
    assert used, "compose.yaml uses no variables?"
    assert used - example == set()
    env_keys = set(compose()["x-app-env"])
    assert env_keys - example == set()
