"""`make cluster`: the replicated setup on this machine, without containers, on loopback only.

    python deploy/cluster.py up [--replicas 2] [--state .cluster]    # what `make cluster` runs
    python deploy/cluster.py down [--state .cluster]                 # what `make cluster-down` runs

It starts PostgreSQL (Debian's package, a throwaway data folder), REPLICAS copies of the app
(`python -m digitlab serve`, as in the container image) on ports 8601, 8602, … sharing the
database, a model folder and one cookie secret, and nginx (Debian's package) on port 8080 in
front of them with sticky sessions (deploy/nginx/digitlab.conf.template, the file the compose
setup uses too). Everything it starts is recorded in the state folder, which `down` removes.
"""

import argparse
import os
import secrets
import shutil
import signal
import string
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from deploy.local import start_postgres, stop_postgres  # noqa: E402

POSTGRES_PORT = 54329
FIRST_REPLICA_PORT = 8601
NGINX_PORT = 8080
NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "digitlab.conf.template"
HEALTH_PATH = "/_stcore/health"
APP_PORT_IN_IMAGE = 8501


def replica_command(port, address="127.0.0.1"):
    """The command that serves one replica; the container image runs the same with address 0.0.0.0."""
    return [
        sys.executable,
        "-m",
        "digitlab",
        "serve",
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
    ]


def replica_environment(database_url, model_dir, cookie_secret):
    """What every replica shares: the database, the model folder and the secret that signs XSRF cookies."""
    return {
        "DIGITLAB_DATABASE_URL": database_url,
        "DIGITLAB_MODEL_DIR": str(model_dir),
        "STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret,
    }


def nginx_config(state, replica_ports, nginx_port=NGINX_PORT):
    """The whole nginx.conf for a local nginx: temporary files in the state folder, then Digit Lab's snippet."""
    servers = " ".join(f"server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in replica_ports)
    snippet = string.Template(NGINX_TEMPLATE.read_text()).safe_substitute(
        DIGITLAB_UPSTREAM_SERVERS=servers, DIGITLAB_LISTEN=f"127.0.0.1:{nginx_port}"
    )
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temporary = "\n".join(f"    {kind}_temp_path {state / ('nginx-' + kind)};" for kind in kinds)
    return (
        f"pid {state / 'nginx.pid'};\nerror_log {state / 'nginx-error.log'} warn;\nworker_processes 1;\n"
        f"events {{ worker_connections 1024; }}\n"
        f"http {{\n    access_log {state / 'nginx-access.log'};\n{temporary}\n{snippet}\n}}\n"
    )


def wait_healthy(url, timeout=120):
    """Wait until `url`'s health endpoint answers ok."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + HEALTH_PATH, timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer {HEALTH_PATH} within {timeout} s")


def start_replica(state, index, port, environment):
    """Start one replica in a process group of its own, its output in the state folder; returns its pid."""
    log = open(state / f"replica-{index}.log", "w")  # noqa: SIM115  The replica keeps writing after this returns.
    process = subprocess.Popen(
        replica_command(port),
        cwd=ROOT,
        env={**os.environ, **environment},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    (state / f"replica-{index}.pid").write_text(str(process.pid))
    return process.pid


def up(state, replicas, ports=(POSTGRES_PORT, FIRST_REPLICA_PORT, NGINX_PORT)):
    """Start PostgreSQL, the replicas and nginx on `ports` (PostgreSQL, first replica, nginx); returns nginx's URL."""
    postgres_port, first_replica_port, nginx_port = ports
    if state.exists():
        sys.exit(f"{state} exists: a cluster may be running. Stop it with `make cluster-down` first.")
    state.mkdir(parents=True)
    state.chmod(0o755)  # PostgreSQL runs as its own user and keeps its socket here (so do its parents need o+x).
    database_url = start_postgres(state / "postgres", postgres_port)
    models = state / "models"
    shutil.copytree(ROOT / "model", models, ignore=shutil.ignore_patterns(".*", "*.tmp*"))
    environment = replica_environment(database_url, models, secrets.token_hex(32))
    replica_ports = [first_replica_port + index for index in range(replicas)]
    for index, port in enumerate(replica_ports, start=1):
        start_replica(state, index, port, environment)
    for port in replica_ports:
        wait_healthy(f"http://127.0.0.1:{port}")
    (state / "nginx.conf").write_text(nginx_config(state, replica_ports, nginx_port))
    subprocess.run(["nginx", "-c", str(state / "nginx.conf"), "-p", str(state)], check=True, capture_output=True)
    url = f"http://127.0.0.1:{nginx_port}"
    wait_healthy(url)
    print(f"Digit Lab: {url} (nginx) → replicas on ports {', '.join(map(str, replica_ports))}")
    print(f"PostgreSQL: {database_url}; shared models: {models}; logs in {state}. Stop with `make cluster-down`.")
    return url


def stop_process_group(pid_file):
    """SIGTERM the process group whose leader's pid is in `pid_file`, then SIGKILL it if it lingers."""
    pid = int(pid_file.read_text())
    for signum, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(pid, signum)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


def down(state):
    """Stop nginx, the replicas and PostgreSQL, and remove the state folder."""
    if not state.exists():
        print(f"No cluster state in {state}: nothing to stop.")
        return
    if (state / "nginx.pid").exists():
        quit_nginx = ["nginx", "-c", str(state / "nginx.conf"), "-p", str(state), "-s", "quit"]
        subprocess.run(quit_nginx, check=False, capture_output=True)
    for pid_file in sorted(state.glob("replica-*.pid")):
        stop_process_group(pid_file)
    stop_postgres(state / "postgres")
    shutil.rmtree(state)
    print("Stopped nginx, the replicas and PostgreSQL.")


def main(argv=None):
    parser = argparse.ArgumentParser(description="The replicated setup on loopback: PostgreSQL, replicas, nginx.")
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--replicas", type=int, default=2, help="how many replicas of the app (default 2)")
    parser.add_argument("--state", type=Path, default=ROOT / ".cluster", help="where pids, logs and data go")
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    if args.action == "up":
        up(args.state.resolve(), args.replicas)
    else:
        down(args.state.resolve())


if __name__ == "__main__":
    main()
