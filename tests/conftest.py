"""Shared fixtures: the MNIST file, copies of the shipped models, and running the project's scripts."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def mnist_path():
    path = os.environ.get("MNIST_NPZ")
    return Path(path) if path and Path(path).is_file() else None


@pytest.fixture(scope="session")
def mnist_file():
    path = mnist_path()
    if path is None:
        pytest.fail("MNIST_NPZ must point at mnist.npz (make test sets it to ../shared/data/mnist.npz)")
    return path


@pytest.fixture(scope="session")
def mnist(mnist_file):
    from digitlab.data import load_mnist

    return load_mnist(mnist_file)


@pytest.fixture(scope="session")
def usps_folder():
    """The folder holding USPS's zip.train.gz and zip.test.gz: $USPS_DIR, else ../shared/data/usps."""
    folder = Path(os.environ.get("USPS_DIR") or ROOT.parent / "shared" / "data" / "usps")
    if not (folder / "zip.train.gz").is_file():
        pytest.fail(f"USPS_DIR must point at the folder of USPS's zip.train.gz ({folder} has none)")
    return folder


@pytest.fixture(scope="session")
def writers_folder():
    """The other writers' digits (uji/, optdigits/, semeion/): $WRITERS_DIR, else ../shared/data/writers."""
    folder = Path(os.environ.get("WRITERS_DIR") or ROOT.parent / "shared" / "data" / "writers")
    if not (folder / "uji" / "ujipenchars2-digits.json").is_file():
        pytest.fail(f"WRITERS_DIR must point at the folder of the other writers' digits ({folder} has no uji/)")
    return folder


def copy_shipped_models(folder, names):
    """Copy the shipped models `names` (weights and cards) into `folder`, for an app or API to use; returns it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        for suffix in (".keras", ".json"):
            shutil.copy(ROOT / "model" / f"{name}{suffix}", folder)
    return folder


def run_script(*args, env=None, timeout=300, cwd=ROOT):
    """Run `python SCRIPT ARGS...` in a subprocess; returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_no_traceback(process):
    assert "Traceback" not in process.stdout + process.stderr, process.stderr


def small_npz(path, **overrides):
    """A tiny MNIST-shaped npz (not full MNIST), with any array replaced by `overrides`."""
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (50, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 50, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 20, dtype=np.uint8),
    }
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, shared by the tests of one module."""
    from playwright.sync_api import sync_playwright

    from tests.browser import launch_chromium

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


class PostgresServer:
    """A throwaway PostgreSQL cluster on loopback; `fresh_url()` gives an empty database of its own."""

    def __init__(self, folder, port):
        from deploy.local import start_postgres

        self.folder, self.port = folder, port
        self.url = start_postgres(folder, port)
        self._databases = 0

    def fresh_url(self):
        from sqlalchemy import create_engine

        self._databases += 1
        name = f"test_{self._databases}"
        engine = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        engine.dispose()
        return self.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server from Debian's package for the whole run, started here and stopped at the end."""
    import tempfile

    from deploy.local import stop_postgres
    from tests.browser import free_port

    folder = Path(tempfile.mkdtemp(prefix="digitlab-postgres-"))
    server = PostgresServer(folder, free_port())
    yield server
    stop_postgres(folder)
    shutil.rmtree(folder, ignore_errors=True)
