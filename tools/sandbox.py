"""`run_python`: generated code run in a sandbox; its failures are returned, never raised.

The code runs as `main.py` in a fresh `python -I -B` subprocess whose working folder is
a new temporary folder, also its HOME, TMPDIR and matplotlib config folder: the only
place it may write. The layers around it, strongest first (`isolation()` lists the
ones in force on this machine):

- namespaces, through `unshare` when the system permits it: a network namespace with
  no interface but a downed loopback, so nothing connects anywhere, and a PID
  namespace, so every process the code starts ends with the run;
- a pids cgroup, when this process may create one: the kernel caps the child's
  processes and threads (RLIMIT_NPROC does not bind root);
- resource limits set in the child: address space (memory), CPU time, file size,
  open files, core dumps, and processes (binding when the child is not root);
- a wall-clock timeout that kills the child's whole process group;
- an audit hook (`sys.addaudithook`), installed before the code runs, that refuses
  writes outside the folder, sockets and name lookups, running other programs, and
  starting more processes than allowed, each with a PermissionError naming the rule.

The audit hook stops accidents and ordinary generated code, not a determined attacker:
code can reach the C library through ctypes. The kernel layers are the stronger ones;
without namespaces and cgroups (no `unshare`, no permission) only the hook and the
resource limits stand, and the hook alone keeps writes inside the folder.
"""

from __future__ import annotations

import builtins
import errno
import functools
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import types
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCRIPT = "main.py"
OUTPUT_SUFFIXES = frozenset({".png", ".svg", ".csv", ".json"})
STREAM_LIMIT = 1 << 20
"""Bytes of stdout and of stderr kept in a result."""

_MB = 1 << 20


@dataclass
class SandboxResult:
    """What one run did: its output, how it ended, and the files it produced."""

    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0
    timed_out: bool = False
    error: str | None = field(
        default=None, metadata={"description": "why the run failed, in one line; None if it ran"}
    )
    files: dict[str, bytes] = field(
        default_factory=dict,
        metadata={"description": "PNG, SVG, CSV and JSON files it wrote, by path in its folder"},
    )
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def run_python(
    code: str,
    *,
    files: dict[str, bytes] | None = None,
    timeout: float = 30,
    memory_mb: int = 1024,
    cpu_seconds: int | None = None,
    max_processes: int = 64,
    max_file_mb: int = 64,
) -> SandboxResult:
    """Run `code` in the sandbox with `files` in its folder (input data, by relative path).

    `cpu_seconds` defaults to the timeout; `max_processes` counts the code's own
    process. A failure of the code (an exception, a limit, a timeout) is returned,
    with a one-line `error`; only bad arguments raise (ValueError).
    """
    if timeout <= 0 or memory_mb < 64 or max_processes < 1 or max_file_mb < 1:
        raise ValueError("run_python needs a positive timeout, memory_mb >= 64 and limits >= 1")
    cpu = cpu_seconds or max(1, math.ceil(timeout))
    with (
        tempfile.TemporaryDirectory(prefix="swarm-sandbox-", ignore_cleanup_errors=True) as work,
        tempfile.TemporaryDirectory(prefix="swarm-control-", ignore_cleanup_errors=True) as ctl,
        _pids_cgroup(max_processes) as cgroup,
    ):
        folder, control = Path(work).resolve(), Path(ctl)
        inputs = _place(folder, files or {})
        (folder / SCRIPT).write_text(code, encoding="utf-8")
        for hidden in (".tmp", ".cache", ".matplotlib"):
            (folder / hidden).mkdir()
        counter = os.open(control / "processes", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        log = os.open(control / "reasons", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        settings = {
            "root": str(folder),
            "memory_mb": memory_mb,
            "cpu_seconds": cpu,
            "file_mb": max_file_mb,
            "max_processes": max_processes,
            "counter_fd": counter,
            "log_fd": log,
            "cgroup": str(cgroup) if cgroup else "",
        }
        argv = [*_namespaces(), sys.executable, "-I", "-B", __file__, json.dumps(settings)]
        started = time.monotonic()
        try:
            with open(control / "stdout", "wb") as out, open(control / "stderr", "wb") as err:
                process = subprocess.Popen(
                    argv,
                    cwd=folder,
                    env=_environment(folder),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                    pass_fds=(counter, log),
                )
                exit_code, cpu_used, timed_out = _wait(process, timeout)
        except OSError as error:
            return SandboxResult(exit_code=-1, error=f"the sandbox could not start: {error}")
        finally:
            os.close(counter)
            os.close(log)
        seconds = time.monotonic() - started
        stdout, stderr = _read_stream(control / "stdout"), _read_stream(control / "stderr")
        reasons = (control / "reasons").read_text(errors="replace").splitlines()
        error = _diagnose(timeout, cpu, timed_out, exit_code, cpu_used, reasons, stderr)
        return SandboxResult(
            stdout=stdout,
            stderr=stderr,
            exit_code=exit_code,
            timed_out=timed_out,
            error=error,
            files=_produced(folder, inputs, max_file_mb * _MB),
            seconds=round(seconds, 3),
        )


def isolation() -> list[str]:
    """The sandbox's layers in force on this machine, strongest first."""
    layers = []
    if _namespaces():
        layers += [
            "network namespace: no network",
            "PID namespace: every process ends with the run",
        ]
    if _pids_parent():
        layers.append("pids cgroup: the kernel caps processes and threads")
    processes = ", processes" if os.geteuid() != 0 or "--user" in _namespaces() else ""
    layers += [
        f"resource limits: memory, CPU time, file size, open files{processes}",
        "wall-clock timeout: the whole process group is killed",
        "audit hook: no writes outside the folder, no network, no other programs, a process budget",
    ]
    return layers


# the parent's side


def _place(folder: Path, files: dict[str, bytes]) -> dict[str, bytes]:
    placed = {}
    for name, data in files.items():
        relative = Path(name)
        if (
            relative.is_absolute()
            or not relative.parts
            or any(part in ("", "..") or part.startswith(".") for part in relative.parts)
            or relative.as_posix() == SCRIPT
        ):
            raise ValueError(
                f"sandbox input {name!r}: give a relative path inside the folder, "
                f"not hidden, not {SCRIPT}"
            )
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        placed[relative.as_posix()] = data
    return placed


def _environment(folder: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(folder),
        "TMPDIR": str(folder / ".tmp"),
        "XDG_CACHE_HOME": str(folder / ".cache"),
        "MPLCONFIGDIR": str(folder / ".matplotlib"),
        "MPLBACKEND": "Agg",
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def _wait(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, float, bool]:
    """Exit code, CPU seconds used and whether the wall clock ran out; the group dies after."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    timed_out = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() >= deadline:
            timed_out = True
            _kill_group(process.pid)
            _, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
    _kill_group(process.pid)  # what the code left behind in its group
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime, timed_out


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # nothing left in the group


def _read_stream(path: Path) -> str:
    with open(path, "rb") as stream:
        data = stream.read(STREAM_LIMIT + 1)
    text = data[:STREAM_LIMIT].decode("utf-8", errors="replace")
    return text + "\n[output truncated]\n" if len(data) > STREAM_LIMIT else text


def _diagnose(
    timeout: float,
    cpu: int,
    timed_out: bool,
    exit_code: int,
    cpu_used: float,
    reasons: list[str],
    stderr: str,
) -> str | None:
    if timed_out:
        return f"timed out after {timeout:.3g} s"
    if exit_code == 0:
        return None
    if reasons:
        return reasons[0]
    if cpu_used >= cpu:
        return f"CPU time limit of {cpu} s exceeded"
    if exit_code < 0:
        return f"killed by signal {signal.Signals(-exit_code).name}"
    last = next((line.strip() for line in reversed(stderr.splitlines()) if line.strip()), "")
    return f"exited with status {exit_code}" + (f": {last}" if last else "")


def _produced(folder: Path, inputs: dict[str, bytes], limit: int) -> dict[str, bytes]:
    """The output files the code wrote: inputs it left unchanged and hidden folders excluded."""
    produced = {}
    for directory, subfolders, names in os.walk(folder):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(names):
            path = Path(directory) / name
            relative = path.relative_to(folder).as_posix()
            if (
                name.startswith(".")
                or path.suffix.lower() not in OUTPUT_SUFFIXES
                or path.is_symlink()
                or not path.is_file()
                or path.stat().st_size > limit
            ):
                continue
            data = path.read_bytes()
            if inputs.get(relative) != data:
                produced[relative] = data
    return produced


@functools.cache
def _namespaces() -> tuple[str, ...]:
    """The `unshare` prefix that gives the child new network and PID namespaces, or ()."""
    unshare = shutil.which("unshare")
    if not unshare:
        return ()
    flags = ["--net", "--pid", "--fork", "--kill-child"]
    for prefix in ([unshare, *flags], [unshare, "--user", "--map-root-user", *flags]):
        try:
            probe = subprocess.run(
                [*prefix, "--", sys.executable, "-I", "-c", ""], capture_output=True, timeout=20
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return (*prefix, "--")
    return ()


@functools.cache
def _pids_parent() -> Path | None:
    """A pids cgroup (v1 or v2) under which this process may create one per run, or None."""
    for base in _pids_candidates():
        probe = base / f"agent-swarm-probe-{os.getpid()}"
        try:
            probe.mkdir()
        except OSError:
            continue
        try:
            if (probe / "pids.max").is_file():
                return base
        finally:
            probe.rmdir()
    return None


def _pids_candidates() -> Iterator[Path]:
    try:
        own = {}
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                own[controller] = path
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return
    for line in mounts:
        fields = line.split()
        tail = fields.index("-")
        root, point = fields[3], fields[4]
        kind, options = fields[tail + 1], fields[tail + 3].split(",")
        controller = "pids" if kind == "cgroup" and "pids" in options else ""
        if (kind == "cgroup" and controller) or kind == "cgroup2":
            relative = os.path.relpath(own.get(controller, "/"), root)
            if not relative.startswith(".."):
                yield Path(point) / relative


@contextmanager
def _pids_cgroup(limit: int) -> Iterator[Path | None]:
    """A fresh pids cgroup capped at `limit` for one run (None when none can be made)."""
    parent = _pids_parent()
    if parent is None:
        yield None
        return
    group = parent / f"agent-swarm-sandbox-{uuid.uuid4().hex}"
    try:
        group.mkdir()
        (group / "pids.max").write_text(str(limit))
    except OSError:
        yield None
        return
    try:
        yield group
    finally:
        for _ in range(100):
            try:
                for pid in (group / "cgroup.procs").read_text().split():
                    os.kill(int(pid), signal.SIGKILL)
                group.rmdir()
                break
            except ProcessLookupError:
                continue
            except OSError:
                time.sleep(0.01)


# the child's side: `python -I -B sandbox.py SETTINGS` confines itself, then runs main.py


class _Refused(PermissionError):
    """A sandbox rule the code broke."""


_CHANGES_PATHS = {  # event -> (path argument, its dir_fd argument or None) per path it changes
    "os.chmod": ((0, 2),),
    "os.chown": ((0, 3),),
    "os.mkdir": ((0, 2),),
    "os.remove": ((0, 1),),
    "os.rmdir": ((0, 1),),
    "os.utime": ((0, 3),),
    "os.truncate": ((0, None),),
    "os.rename": ((0, 2), (1, 3)),
    "os.link": ((1, 3),),
    "os.symlink": ((1, 2),),
    "os.setxattr": ((0, None),),
    "os.removexattr": ((0, None),),
    "sqlite3.connect": ((0, None),),
}
_SOCKET_USE = frozenset({"socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg"})
_LOOKUPS = frozenset(
    {
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyname_ex",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
    }
)
_PROGRAMS = frozenset({"os.exec", "os.posix_spawn", "os.spawn", "os.system", "subprocess.Popen"})
_WRITING = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


def _boot(settings: dict[str, Any]) -> None:
    """Join the cgroup, set the limits, install the audit hook, then run main.py as __main__."""
    root = settings["root"]
    if settings["cgroup"]:
        Path(settings["cgroup"], "cgroup.procs").write_text("0")
    _limit(settings)
    source = Path(root, SCRIPT).read_text(encoding="utf-8")
    main = types.ModuleType("__main__")
    main.__file__ = os.path.join(root, SCRIPT)
    main.__builtins__ = builtins  # type: ignore[attr-defined]
    sys.modules["__main__"] = main
    sys.argv = [SCRIPT]
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.addaudithook(_audit_hook(root, settings["counter_fd"], settings["max_processes"]))
    try:
        exec(compile(source, SCRIPT, "exec"), main.__dict__)
    except SystemExit:
        raise
    except BaseException as error:
        why = _reason(error, settings)
        if why:
            os.write(settings["log_fd"], (why + "\n").encode())
        trace = error.__traceback__  # from main.py's first frame on: the boot is not the code's
        while trace is not None and trace.tb_frame.f_code.co_filename != SCRIPT:
            trace = trace.tb_next
        traceback.print_exception(type(error), error, trace)
        sys.exit(1)


def _limit(settings: dict[str, Any]) -> None:
    """Resource limits on this process and its children, never above the ones it inherited."""
    import resource

    cpu = settings["cpu_seconds"]
    memory, size = settings["memory_mb"] * _MB, settings["file_mb"] * _MB
    for limit, soft, hard in (
        (resource.RLIMIT_AS, memory, memory),
        (resource.RLIMIT_FSIZE, size, size),
        (resource.RLIMIT_NOFILE, 1024, 1024),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_NPROC, settings["max_processes"], settings["max_processes"]),
        (resource.RLIMIT_CPU, cpu, cpu + 1),  # SIGXCPU at the limit, SIGKILL a second later
    ):
        _, ceiling = resource.getrlimit(limit)
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)
        resource.setrlimit(limit, (soft, hard))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit raises EFBIG

    def out_of_cpu(signum: int, frame: object) -> None:
        os.write(settings["log_fd"], f"CPU time limit of {cpu} s exceeded\n".encode())
        os._exit(128 + signum)

    signal.signal(signal.SIGXCPU, out_of_cpu)


def _audit_hook(root: str, counter: int, max_processes: int) -> Callable[[str, tuple], None]:
    """The hook that refuses writes outside `root`, the network, other programs, and more
    than `max_processes` processes in all (counted in the file behind `counter`)."""

    def inside(path: Any, dir_fd: Any = None) -> bool:
        if isinstance(path, int) or path is None:
            return True  # a descriptor, checked when it was opened
        name = os.fsdecode(os.fspath(path))
        if isinstance(dir_fd, int) and dir_fd >= 0 and not os.path.isabs(name):
            name = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), name)
        real = os.path.realpath(name)
        return real == root or real.startswith(root + os.sep) or real == os.devnull

    def outside(path: Any) -> None:
        raise _Refused(f"writing outside the sandbox folder is blocked: {os.fsdecode(path)}")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = args
            writes = any(c in mode for c in "wax+") if isinstance(mode, str) else flags & _WRITING
            if writes and not inside(path):
                outside(path)
        elif event in _CHANGES_PATHS:
            for at, dir_fd in _CHANGES_PATHS[event]:
                path = args[at]
                if path != ":memory:" and not inside(path, args[dir_fd] if dir_fd else None):
                    outside(path)
        elif event == "socket.__new__":
            if args[1] != socket.AF_UNIX:
                raise _Refused("network access is blocked")
        elif event in _SOCKET_USE:
            address = args[1]
            named = isinstance(address, str | bytes) and address[:1] not in ("\0", b"\0")
            if not named or not inside(address):
                raise _Refused("network access is blocked")
        elif event in _LOOKUPS:
            raise _Refused("network access is blocked")
        elif event in _PROGRAMS:
            raise _Refused("running other programs is blocked")
        elif event in ("os.fork", "os.forkpty"):
            if os.fstat(counter).st_size >= max_processes - 1:
                raise _Refused(f"process limit reached ({max_processes} processes)")
            os.write(counter, b"+")

    return hook


def _reason(error: BaseException | None, settings: dict[str, Any]) -> str | None:
    """The sandbox limit behind a failure, if one was: the error or any it came from."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, _Refused):
            return str(error)
        if isinstance(error, MemoryError):
            return f"memory limit of {settings['memory_mb']} MB exceeded"
        if isinstance(error, OSError) and error.errno == errno.EFBIG:
            return f"file size limit of {settings['file_mb']} MB exceeded"
        if (isinstance(error, OSError) and error.errno == errno.EAGAIN) or (
            isinstance(error, RuntimeError) and "can't start new thread" in str(error)
        ):
            return f"process limit reached ({settings['max_processes']} processes)"
        if isinstance(error, socket.gaierror) or (
            isinstance(error, OSError)
            and error.errno in (errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTUNREACH)
        ):
            return "network access is blocked"
        error = error.__cause__ or error.__context__
    return None


if __name__ == "__main__":
    _boot(json.loads(sys.argv[1]))
