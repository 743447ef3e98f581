"""Throwaway servers from Debian's packages on loopback, for `make cluster` and the tests: PostgreSQL and nginx.

PostgreSQL's `initdb` refuses to run as root, so a cluster started by root runs as the `postgres`
user; its data folder, socket and log live in one folder that `stop_postgres` leaves behind for
the caller to delete.
"""

import glob
import os
import pwd
import shutil
import subprocess
from pathlib import Path

POSTGRES_USER = "postgres"
DATABASE = "digitlab"


def postgres_bin(program):
    """The path of a PostgreSQL server program (Debian keeps them out of PATH, under /usr/lib/postgresql/N/bin)."""
    found = shutil.which(program) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"))[::-1]), None)
    if found is None:
        raise FileNotFoundError(f"{program} not found: install Debian's postgresql package (make test does)")
    return found


def _as_postgres(command):
    """Run `command` as the postgres user when this process is root, else as this user; RuntimeError if it fails."""
    program = Path(command[0]).name
    if os.geteuid() == 0:
        command = ["runuser", "-u", POSTGRES_USER, "--", *command]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{program} failed: {(done.stderr or done.stdout).strip()}")
    return done


def start_postgres(folder, port):
    """Create and start a PostgreSQL cluster in `folder` on 127.0.0.1:`port` with a database; returns its URL."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        user = pwd.getpwnam(POSTGRES_USER)
        os.chown(folder, user.pw_uid, user.pw_gid)
    data = folder / "data"
    _as_postgres([postgres_bin("initdb"), "-D", str(data), "--auth=trust", "-U", POSTGRES_USER, "-E", "UTF8"])
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=on"
    _as_postgres(
        [postgres_bin("pg_ctl"), "-D", str(data), "-l", str(folder / "postgres.log"), "-o", options, "-w", "start"]
    )
    _as_postgres([postgres_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", POSTGRES_USER, DATABASE])
    return f"postgresql://{POSTGRES_USER}@127.0.0.1:{port}/{DATABASE}"


def stop_postgres(folder, mode="fast"):
    """Stop the cluster in `folder` (mode "immediate" is a crash, as when a machine loses power)."""
    data = Path(folder) / "data"
    if (data / "postmaster.pid").exists():
        _as_postgres([postgres_bin("pg_ctl"), "-D", str(data), "-m", mode, "-w", "stop"])
