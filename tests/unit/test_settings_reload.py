"""Settings read by a thread while they are reloaded: the reload wins, never the thread's stale reading."""

from __future__ import annotations

import threading

import pytest

from core import config


def test_a_reading_begun_before_a_reload_cannot_overwrite_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIGN_IN", raising=False)
    config.forget_settings()
    started, release = threading.Event(), threading.Event()
    real = config.Settings

    def slow_settings() -> config.Settings:
        settings = real()  # reads the environment as it is now: SIGN_IN unset
        if threading.current_thread().name == "stale-reader":
            started.set()
            release.wait(10)  # ...and is slow to finish, while the environment changes and a reload runs
        return settings

    monkeypatch.setattr(config, "Settings", slow_settings)
    reader = threading.Thread(target=config.get_settings, name="stale-reader")
    reader.start()
    assert started.wait(10)
    monkeypatch.setenv("SIGN_IN", "true")
    reloader = threading.Thread(target=config.reload_settings)
    reloader.start()
    release.set()
    reader.join(10)
    reloader.join(10)
    assert config.get_settings().sign_in is True
    monkeypatch.setattr(config, "Settings", real)
    monkeypatch.delenv("SIGN_IN")
    assert config.reload_settings().sign_in is False


def test_bad_settings_leave_the_last_good_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    good = config.reload_settings()
    monkeypatch.setenv("SIGN_IN", "not-a-boolean")
    with pytest.raises(ValueError, match="sign_in"):
        config.reload_settings()
    assert config.get_settings() is good
    monkeypatch.delenv("SIGN_IN")
    config.reload_settings()
