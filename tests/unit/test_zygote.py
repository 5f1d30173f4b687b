"""tests/zygote.py stands in for `subprocess.run([sys.executable, ...])` in the security tests: each run is a
process of its own, with the given argv, environment, folder and address-space cap, and its crash, exit
status, output and time-out come back as they would from a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.zygote import Zygote

PROBE = r"""
import json, os, resource, sys
print(json.dumps({"argv": sys.argv, "cwd": os.getcwd(), "pid": os.getpid(), "ppid": os.getppid(),
                  "flag": os.environ.get("WB_FLAG"), "as": resource.getrlimit(resource.RLIMIT_AS)[0],
                  "threads": len(os.listdir("/proc/self/task")), "preloaded": "json" in sys.modules,
                  "marked": getattr(json, "wb_mark", None)}))
json.wb_mark = "set by an earlier run"
print("to stderr", file=sys.stderr)
sys.exit(int(sys.argv[1]))
"""


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    folder = tmp_path_factory.mktemp("zygote")
    started = Zygote(["json"], env={**os.environ, "WB_FLAG": "zygote"}, cwd=folder)
    yield started
    started.close()


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "WB_FLAG": "zygote", **extra}


def test_each_run_is_a_new_single_threaded_process_with_its_own_argv_env_folder_and_exit_status(
        zygote: Zygote, tmp_path: Path) -> None:
    first = zygote.run(["-c", PROBE, "3", "x"], cwd=tmp_path, env=_env(WB_FLAG="run"), timeout=60)
    second = zygote.run(["-c", PROBE, "0"], cwd=tmp_path, env=_env(), timeout=60)
    assert (first.returncode, second.returncode) == (3, 0)
    one, two = json.loads(first.stdout), json.loads(second.stdout)
    assert one["argv"] == ["-c", "3", "x"] and one["cwd"] == str(tmp_path) and one["flag"] == "run"
    assert two["flag"] == "zygote" and first.stderr == "to stderr\n"
    assert one["pid"] != two["pid"] and one["pid"] != os.getpid() and one["ppid"] == two["ppid"]
    assert one["threads"] == 1 and one["preloaded"]
    assert one["marked"] is None and two["marked"] is None  # what a run changes dies with it


def test_scripts_and_modules_run_as_main(zygote: Zygote, tmp_path: Path) -> None:
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    ran = zygote.run([str(script), "0"], cwd=tmp_path, env=_env(), timeout=60)
    assert ran.returncode == 0 and json.loads(ran.stdout)["argv"] == [str(script), "0"]
    (tmp_path / "probe_module.py").write_text(PROBE)
    module = zygote.run(["-m", "probe_module", "4"], cwd=tmp_path, env=_env(), timeout=60)
    assert module.returncode == 4 and json.loads(module.stdout)["argv"] == [str(tmp_path / "probe_module.py"), "4"]
    stdin = zygote.run(["-c", "import sys; print(repr(sys.stdin.read()))"], cwd=tmp_path, env=_env(), timeout=60)
    assert stdin.stdout == "''\n"  # /dev/null, never the zygote's requests


def test_the_cap_bounds_the_child_and_only_the_child(zygote: Zygote, tmp_path: Path) -> None:
    cap = 1 << 30
    capped = zygote.run(["-c", PROBE, "0"], cwd=tmp_path, env=_env(), cap_bytes=cap, timeout=60)
    assert json.loads(capped.stdout)["as"] == cap
    grab = zygote.run(["-c", "b = bytearray(2 << 30)"], cwd=tmp_path, env=_env(), cap_bytes=cap, timeout=60)
    assert grab.returncode == 1 and "MemoryError" in grab.stderr
    free = zygote.run(["-c", PROBE, "0"], cwd=tmp_path, env=_env(), timeout=60)
    assert json.loads(free.stdout)["as"] == -1  # RLIM_INFINITY: the cap stayed in the capped child


def test_a_crash_an_uncaught_error_and_a_time_out_are_reported(zygote: Zygote, tmp_path: Path) -> None:
    crash = zygote.run(["-c", "import os, signal; os.kill(os.getpid(), signal.SIGABRT)"], cwd=tmp_path, env=_env(),
                       timeout=60)
    assert crash.returncode == -6
    error = zygote.run(["-c", "raise KeyError('boom')"], cwd=tmp_path, env=_env(), timeout=60)
    assert error.returncode == 1 and "KeyError: 'boom'" in error.stderr
    with pytest.raises(subprocess.TimeoutExpired) as caught:
        zygote.run(["-c", "import time; print('started', flush=True); time.sleep(60)"], cwd=tmp_path, env=_env(),
                   timeout=2)
    assert caught.value.stdout == "started\n"
    after = zygote.run(["-c", PROBE, "0"], cwd=tmp_path, env=_env(), timeout=60)
    assert after.returncode == 0  # the zygote goes on after a child was killed


def test_variables_read_at_start_must_be_the_zygote_s(zygote: Zygote, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="MALLOC_ARENA_MAX"):
        zygote.run(["-c", "pass"], cwd=tmp_path, env=_env(MALLOC_ARENA_MAX="1"), timeout=60)
    assert zygote.run(["-c", "pass"], cwd=tmp_path, env=_env(), timeout=60).returncode == 0
