"""The apps the classroom benchmarks serve, and what their processes cost, read from Linux's /proc.

`app_server("digitlab", ...)` serves Digit Lab as `make run` does (`python -m digitlab serve`, from the
repository, so with its `.streamlit/config.toml`); `app_server("bare", ...)` serves bench/bare_app.py
from a temporary folder holding nothing else: Streamlit runs it with its default settings, and its file
watcher (on by default) has no other file to watch. Either yields the server's URL and the process id at
the root of its process tree: the CPU and memory of the app are those of that process and its descendants.
"""

import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from common import ROOT

from tests.browser import problems_in_log, server_process

APPS = ("bare", "digitlab")
BARE_APP = ROOT / "bench" / "bare_app.py"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# /proc/stat's busy fields: user, nice, system, irq, softirq and steal. Idle and iowait are not busy,
# and guest time is already counted in user (guest_nice in nice).
BUSY_FIELDS = (0, 1, 2, 5, 6, 7)


@dataclass(frozen=True)
class Server:
    """A running server: its base URL, and the process at the root of its process tree."""

    url: str
    pid: int


@contextmanager
def app_server(app, log_path, env=None):
    """Serve `app` ("digitlab" or "bare") on a free port, its output in `log_path`; yields a Server."""
    if app == "digitlab":
        with server_process(log_path, env) as (url, process):
            yield Server(url, process.pid)
        return
    with tempfile.TemporaryDirectory(prefix="bare-app-") as folder:
        script = Path(shutil.copy(BARE_APP, folder))
        with server_process(log_path, env, script, cwd=folder) as (url, process):
            yield Server(url, process.pid)


def process_table():
    """Every process now running: pid → (parent pid, CPU ticks of its own and of its waited-for children)."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # The process ended while the table was being read.
        # The command name in parentheses may hold spaces: the fields that follow it start after the last ")".
        fields = text[text.rindex(")") + 2 :].split()
        ticks = sum(int(field) for field in fields[11:15])  # utime, stime, cutime, cstime
        table[int(stat.parent.name)] = (int(fields[1]), ticks)
    return table


def process_tree(root, table):
    """`root` and all its descendants among `table`'s processes."""
    children = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    tree, waiting = set(), [root]
    while waiting:
        pid = waiting.pop()
        if pid in table and pid not in tree:
            tree.add(pid)
            waiting.extend(children.get(pid, []))
    return tree


def cpu_seconds(pids, table):
    """CPU seconds spent so far by `pids`, counting the children they have already waited for."""
    return sum(table[pid][1] for pid in pids) / CLOCK_TICKS


def tree_cpu_seconds(root):
    """CPU seconds spent so far by the process tree under `root`."""
    table = process_table()
    return cpu_seconds(process_tree(root, table), table)


def tree_rss_mb(root):
    """Resident memory of the process tree under `root`, each process's RSS added up, in MB."""
    kib = 0
    for pid in process_tree(root, process_table()):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        kib += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return kib * 1024 / 1e6


def machine_busy_seconds():
    """CPU seconds the whole machine has spent busy since it booted, all cores added up."""
    ticks = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    return sum(int(ticks[index]) for index in BUSY_FIELDS) / CLOCK_TICKS


def assert_clean_logs(folder):
    """Stop, quoting the lines, when a server log in `folder` mentions a traceback or an error."""
    problems = [line for log in sorted(Path(folder).glob("*.log")) for line in problems_in_log(log)]
    if problems:
        raise SystemExit("the server logged errors:\n" + "\n".join(problems))
