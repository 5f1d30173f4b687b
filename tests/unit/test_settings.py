"""Settings: every field is described and documented in .env.example; the environment wins."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.config import Settings, reload_settings

ROOT = Path(__file__).resolve().parents[2]


def env_example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.M))


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_described_and_in_env_example(name: str) -> None:
    field = Settings.model_fields[name]
    assert field.description and len(field.description) > 15, f"{name} needs a description"
    assert name.upper() in env_example_names(), f"{name.upper()} is missing from .env.example"


def test_env_example_lists_nothing_unknown() -> None:
    known = {n.upper() for n in Settings.model_fields} | {"POSTGRES_PASSWORD"}
    assert env_example_names() <= known


def test_required_settings_exist() -> None:
    required = {"DATABASE_URL", "DATA_DIR", "REDIS_URL", "CHROMA_HOST", "CHROMA_PORT", "OPENAI_API_KEY",
                "OPENAI_BASE_URL", "LLM_MODEL", "EMBEDDING_MODEL", "KAGGLE_USERNAME", "KAGGLE_KEY",
                "SERPAPI_API_KEY", "MAX_UPLOAD_MB", "JOB_HEARTBEAT_TIMEOUT_S"}
    assert required <= {n.upper() for n in Settings.model_fields}


def test_defaults_are_the_embedded_mode(workbench: Path) -> None:
    settings = reload_settings()
    assert settings.embedded
    assert settings.resolved_database_url == f"sqlite:///{(workbench / 'workbench.db').resolve()}"
    assert settings.openai_api_key is None or not settings.openai_api_key.get_secret_value()


def test_environment_and_dotenv_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("MAX_UPLOAD_MB=7\nLLM_MODEL=from-dotenv\n")
    monkeypatch.setenv("LLM_MODEL", "from-env")
    monkeypatch.delenv("MAX_UPLOAD_MB", raising=False)
    settings = reload_settings()
    assert settings.max_upload_mb == 7
    assert settings.llm_model == "from-env"
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert not reload_settings().embedded


def test_secrets_are_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    settings = reload_settings()
    assert "sk-very-secret" not in repr(settings)
    assert settings.openai_api_key.get_secret_value() == "sk-very-secret"


def test_an_empty_key_means_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "")
    monkeypatch.setenv("SERPAPI_API_KEY", "  ")
    settings = reload_settings()
    assert settings.openai_api_key is None and settings.serpapi_api_key is None
