"""A Python process that imports the heavy modules once and forks a fresh child for every run.

Security tests run each hostile payload in a process of its own (memory capped, so a regression
fails the test instead of taking the machine down, and so a crash is seen as a crash). Starting
`python` and importing the app's `core` costs seconds each time; a zygote pays it once per test
module. `Zygote.run(argv, ...)` stands in for `subprocess.run([sys.executable, *argv], ...)`: the
child is a new process (fork) with its own memory, its own RLIMIT_AS, the given environment, working
folder, argv (`-c CODE ...`, `-m MODULE ...` or `SCRIPT ...`), stdin from /dev/null, and its exit
status, stdout and stderr come back in a CompletedProcess (TimeoutExpired past `timeout`).

What differs from a fresh interpreter, and why it does not matter to what the tests measure:
- the `preload` modules are already imported (preload only what the child imports anyway): their
  mappings count against the child's RLIMIT_AS as if it had imported them (VmSize at start: 532 MB
  forked, 531.6 MB fresh, for core.datasets); VmHWM starts at the child's resident size at fork,
  which is lower than a fresh child's after its imports (126 MB against 188 MB): peaks read in the
  child are its own from fork on, not the zygote's;
- variables read once when the interpreter or a library starts (PYTHONPATH, MALLOC_ARENA_MAX,
  OPENBLAS_*, ARROW_*, ...) come from the zygote's `env`: `run` refuses an `env` that differs from
  it in any of those; the child's os.environ is the run's `env` (DATA_DIR and the other settings,
  which `core.config.get_settings` re-reads in the child);
- threads do not survive fork. The preloads start two: OpenBLAS's worker (numpy; OpenBLAS stops it
  before fork and starts it again when next needed) and pyarrow's jemalloc background purger (jemalloc
  resets it in the child, which then purges on its own allocations). The child starts with one thread
  (tests/unit/test_zygote.py); `Zygote.threads` lists the zygote's by name. DuckDB databases, SQL
  engines and settings are all opened on first use, so the zygote holds none of them at fork.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

_ZYGOTE = r"""
import importlib, json, os, sys
proto = os.fdopen(os.dup(1), "w", buffering=1)
requests = os.fdopen(os.dup(0), "r")
null = os.open(os.devnull, os.O_RDWR)
os.dup2(null, 0)
os.dup2(null, 1)  # stray prints of the preloaded modules must not mix with the protocol
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
tasks = os.listdir("/proc/self/task")
names = sorted(open(f"/proc/self/task/{t}/comm").read().strip() for t in tasks)
proto.write("READY " + json.dumps(names) + "\n")


def child(req):
    import atexit, builtins, resource, runpy, traceback
    code = 1
    try:
        proto.close()
        requests.close()
        for fd, path in ((1, req["out"]), (2, req["err"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
        sys.stdin = open(os.devnull)
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        if "core.config" in sys.modules:
            sys.modules["core.config"].forget_settings()
        if req["cap"]:
            resource.setrlimit(resource.RLIMIT_AS, (req["cap"], req["cap"]))
        argv = req["argv"]
        try:
            if argv[0] == "-c":
                sys.argv = ["-c", *argv[2:]]
                sys.path[0] = ""
                exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__", "__builtins__": builtins})
            elif argv[0] == "-m":
                sys.argv = [argv[1], *argv[2:]]
                sys.path[0] = os.getcwd()
                sys.modules.pop(argv[1], None)  # run afresh as __main__, as `python -m` does
                runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
            else:
                sys.argv = list(argv)
                sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
                runpy.run_path(argv[0], run_name="__main__")
            code = 0
        except SystemExit as exc:
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except BaseException:
            traceback.print_exc()
            code = 1
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        try:
            traceback.print_exc()
            sys.stderr.flush()
        finally:
            os._exit(1)
    os._exit(code)


for line in requests:
    req = json.loads(line)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        child(req)
    proto.write(f"PID {pid}\n")
    _, status = os.waitpid(pid, 0)
    proto.write(f"EXIT {os.waitstatus_to_exitcode(status)}\n")
"""


# environment variables the interpreter, the C allocator or a native library reads once, at start or import
STARTUP = ("PYTHON", "MALLOC_", "LD_", "GLIBC_TUNABLES", "OPENBLAS_", "OMP_", "MKL_", "JE_", "ARROW_", "MIMALLOC_")


class Zygote:
    """A started zygote; `run` forks a child from it, `close` ends it (use it in a module-scoped fixture)."""

    def __init__(self, preload: list[str], *, env: dict[str, str], cwd: Path, start_timeout: float = 300) -> None:
        self.env = dict(env)
        self._folder = Path(cwd)
        self._runs = 0
        self._log = open(self._folder / "zygote.stderr", "w+")  # closed in close()
        self._proc = subprocess.Popen([sys.executable, "-c", _ZYGOTE, json.dumps(preload)], env=self.env,
                                      cwd=self._folder, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._log, text=True, bufsize=1)
        self._pending = b""
        ready = self._line(start_timeout)
        if not ready.startswith("READY "):
            self.close()
            raise RuntimeError(f"the zygote did not start: {ready!r} {self._stderr()}")
        self.threads: list[str] = json.loads(ready[len("READY "):])

    def _stderr(self) -> str:
        self._log.seek(0)
        return self._log.read()[-2000:]

    def _line(self, timeout: float) -> str:
        """The zygote's next protocol line ('' when it died, TimeoutError when none came in time)."""
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()  # read raw: a buffered reader could hold a line select() cannot see
        deadline = time.monotonic() + timeout
        while b"\n" not in self._pending:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, 65536)
            if not chunk:
                return ""
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return line.decode() + "\n"

    def run(self, argv: list[str], *, cwd: Path, env: dict[str, str], cap_bytes: int | None = None,
            timeout: float) -> subprocess.CompletedProcess[str]:
        """Like `subprocess.run([sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=timeout)`, with RLIMIT_AS set to `cap_bytes` in the child before it runs anything."""
        assert self._proc.stdin is not None
        differ = sorted(k for k in {*env, *self.env} if k.startswith(STARTUP) and env.get(k) != self.env.get(k))
        if differ:
            raise ValueError(f"read when a process starts, these must be the zygote's: {differ}")
        self._runs += 1
        out, err = (self._folder / f"run-{self._runs}.{n}" for n in ("out", "err"))  # not in the child's folder
        request = {"argv": list(argv), "cwd": str(cwd), "env": dict(env),
                   "cap": cap_bytes, "out": str(out), "err": str(err)}
        started = time.monotonic()
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        head = self._line(30)
        if not head.startswith("PID "):
            raise RuntimeError(f"the zygote died: {head!r} {self._stderr()}")
        pid = int(head.split()[1])
        timed_out = False
        try:
            tail = self._line(timeout - (time.monotonic() - started))
        except TimeoutError:
            timed_out = True
            os.kill(pid, signal.SIGKILL)  # the child this run forked, still ours to end
            tail = self._line(30)
        if not tail.startswith("EXIT "):
            raise RuntimeError(f"the zygote died: {tail!r} {self._stderr()}")
        stdout, stderr = out.read_text(errors="replace"), err.read_text(errors="replace")
        out.unlink()
        err.unlink()
        if timed_out:
            raise subprocess.TimeoutExpired(argv, timeout, output=stdout, stderr=stderr)
        return subprocess.CompletedProcess(argv, int(tail.split()[1]), stdout, stderr)

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            self._proc.stdin.close()  # the zygote ends when its requests end
        try:
            self._proc.wait(30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(10)
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._log.close()
