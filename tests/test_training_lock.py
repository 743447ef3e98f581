"""One training across replicas: the advisory lock is held by the training process and freed however it ends."""

import os
import signal
import subprocess
import sys
import time

import pytest

from digitlab.database import DATABASE_URL_ENV, FEEDBACK_DB_ENV
from digitlab.training_lock import TrainingBusy, running_elsewhere, training_lock
from tests.conftest import ROOT

HOLDER = """
import time
from digitlab.training_lock import training_lock
with training_lock():
    print("holding", flush=True)
    time.sleep(600)
"""


def holder(url):
    """A process that takes the training lock and keeps it, as a training would."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        cwd=ROOT,
        env={**os.environ, DATABASE_URL_ENV: url},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "holding"
    return process


def test_a_second_training_waits_for_the_first_even_when_its_replica_died(postgres, monkeypatch):
    url = postgres.fresh_url()
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    assert not running_elsewhere()
    first = holder(url)
    try:
        assert running_elsewhere()
        with pytest.raises(TrainingBusy, match="already running on another replica"), training_lock():
            pass
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    deadline = time.monotonic() + 10
    while running_elsewhere() and time.monotonic() < deadline:
        time.sleep(0.1)
    with training_lock():
        assert running_elsewhere()
    assert not running_elsewhere()


def test_the_embedded_default_needs_no_database_lock(monkeypatch, tmp_path):
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.setenv(FEEDBACK_DB_ENV, str(tmp_path / "feedback.sqlite3"))
    with training_lock(), training_lock():
        assert not running_elsewhere()


def test_a_database_that_is_down_is_said_in_one_line(monkeypatch):
    from tests.browser import free_port

    monkeypatch.setenv(DATABASE_URL_ENV, f"postgresql://digitlab@127.0.0.1:{free_port()}/digitlab")
    with pytest.raises(TrainingBusy, match="cannot be coordinated.*unavailable") as error, training_lock():
        pass
    assert "\n" not in str(error.value)
