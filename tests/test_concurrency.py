"""One classifier shared by many threads (as Streamlit's sessions share it), and memory over time."""

import resource
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from digitlab import load_classifier
from digitlab.synthetic import render_on_canvas


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()


@pytest.fixture(scope="module")
def canvases(mnist):
    (_, _), (x_test, y_test) = mnist
    rng = np.random.default_rng(3)
    return [render_on_canvas(x_test[i], rng) for i in range(40)], y_test[:40]


def rss_mib():
    """Resident memory of this process now, from /proc (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def test_threads_sharing_one_classifier_see_their_own_answers(classifier, canvases):
    pictures, _ = canvases
    expected = [classifier.predict(p).probabilities for p in pictures]
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda i: (i, classifier.predict(pictures[i])), list(range(40)) * 5))
    for i, result in results:
        np.testing.assert_allclose(result.probabilities, expected[i], atol=1e-6)


def test_memory_stays_flat_over_500_predictions(classifier, canvases):
    pictures, _ = canvases
    for picture in pictures:
        classifier.predict(picture)
    before = rss_mib()
    for i in range(500):
        classifier.predict(pictures[i % len(pictures)])
    after = rss_mib()
    print(f"RSS before {before:.0f} MiB, after 500 predictions {after:.0f} MiB")
    assert after - before < 25
