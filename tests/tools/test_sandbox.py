"""The sandbox stops runaway, greedy and escaping code with a clear error; the caller goes on."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tools.sandbox import isolation, run_python

PNG = b"\x89PNG\r\n\x1a\n"
LAYERS = " ".join(isolation())
CGROUP = "pids cgroup" in LAYERS
NAMESPACES = "network namespace" in LAYERS


def test_a_normal_script_returns_its_output_and_the_files_it_made() -> None:
    code = """
import csv
import matplotlib.pyplot as plt

rows = list(csv.DictReader(open("data.csv")))
plt.bar([r["year"] for r in rows], [int(r["n"]) for r in rows])
plt.savefig("chart.png")
open("summary.json", "w").write('{"rows": %d}' % len(rows))
print("rows:", len(rows))
"""
    result = run_python(code, files={"data.csv": b"year,n\n2020,3\n2021,5\n"}, timeout=20)
    assert result.ok and result.exit_code == 0 and not result.timed_out
    assert result.stdout == "rows: 2\n"
    assert result.files["chart.png"].startswith(PNG)
    assert result.files["summary.json"] == b'{"rows": 2}'
    assert "data.csv" not in result.files  # an input it left alone is not a product


def test_code_that_loops_forever_is_stopped_at_the_timeout() -> None:
    started = time.monotonic()
    result = run_python("import time\nwhile True:\n    time.sleep(0.1)", timeout=1.5)
    assert result.timed_out and result.error == "timed out after 1.5 s"
    assert time.monotonic() - started < 10


def test_busy_code_is_stopped_at_its_cpu_limit() -> None:
    result = run_python("while True:\n    pass", timeout=20, cpu_seconds=1)
    assert not result.timed_out
    assert result.error == "CPU time limit of 1 s exceeded"


def test_allocating_10_gb_hits_the_memory_limit() -> None:
    result = run_python("blob = bytearray(10 * 1024**3)", memory_mb=512, timeout=10)
    assert result.error == "memory limit of 512 MB exceeded"
    assert "MemoryError" in result.stderr


def test_opening_a_network_connection_is_blocked() -> None:
    code = "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=3)"
    result = run_python(code, timeout=10)
    assert result.error == "network access is blocked"


def test_writing_outside_its_folder_is_blocked(tmp_path: Path) -> None:
    target = tmp_path / "escaped.txt"
    result = run_python(f"open({str(target)!r}, 'w').write('x')", timeout=10)
    assert result.error == f"writing outside the sandbox folder is blocked: {target}"
    assert not target.exists()


def test_running_other_programs_is_blocked(tmp_path: Path) -> None:
    target = tmp_path / "shell.txt"
    result = run_python(f"import os\nos.system('echo x > {target}')", timeout=10)
    assert result.error == "running other programs is blocked"
    assert not target.exists()


def test_forking_without_end_reaches_the_process_limit() -> None:
    result = run_python("import os\nwhile True:\n    os.fork()", max_processes=16, timeout=20)
    assert result.error == "process limit reached (16 processes)"
    assert not result.timed_out


def test_a_failing_script_returns_its_traceback() -> None:
    result = run_python("def f():\n    return 1 / 0\n\nf()", timeout=10)
    assert result.error == "exited with status 1: ZeroDivisionError: division by zero"
    assert 'File "main.py", line 2, in f' in result.stderr
    assert "sandbox.py" not in result.stderr


def test_a_file_past_the_size_limit_is_stopped() -> None:
    result = run_python("open('big.csv', 'wb').write(b'x' * 3 * 1024**2)", max_file_mb=1)
    assert result.error == "file size limit of 1 MB exceeded"


@pytest.mark.skipif(not CGROUP, reason="no pids cgroup can be made here")
def test_forks_that_bypass_the_audit_hook_are_capped_by_the_kernel() -> None:
    code = """
import ctypes, os, time
libc = ctypes.CDLL(None)
started = 0
for _ in range(200):
    pid = libc.fork()
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    if pid < 0:
        break
    started += 1
print(started)
"""
    result = run_python(code, max_processes=8, timeout=20)
    assert result.ok and int(result.stdout) == 7  # the script is the eighth process


@pytest.mark.skipif(not NAMESPACES, reason="unshare cannot make namespaces here")
def test_a_connection_that_bypasses_the_audit_hook_finds_no_network() -> None:
    code = """
import ctypes, errno, socket, struct
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
address = struct.pack("=H", socket.AF_INET) + struct.pack("!H4s8x", 80, bytes([1, 1, 1, 1]))
print(libc.connect(fd, address, len(address)), errno.errorcode[ctypes.get_errno()])
"""
    result = run_python(code, timeout=10)
    assert result.stdout.split() == ["-1", "ENETUNREACH"]


@pytest.mark.skipif(not (NAMESPACES or CGROUP), reason="no PID namespace and no cgroup here")
def test_processes_that_leave_the_session_end_with_the_run() -> None:
    code = """
import ctypes, os, time
libc = ctypes.CDLL(None)
print(os.getcwd())
if libc.fork() == 0:
    libc.setsid()
    time.sleep(60)
    os._exit(0)
time.sleep(60)
"""
    result = run_python(code, timeout=1.5)
    assert result.timed_out
    folder = result.stdout.strip()
    assert folder
    time.sleep(0.2)
    assert not [p for p in os.listdir("/proc") if p.isdigit() and folder in _command(p)]


def test_isolation_names_the_layers_in_force() -> None:
    layers = isolation()
    assert any(layer.startswith("audit hook") for layer in layers)
    assert any(layer.startswith("resource limits") for layer in layers)


def _command(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""
