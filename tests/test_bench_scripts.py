"""The benchmark scripts without their data or with a bad flag: a one-line error or usage, never a traceback."""

import pytest

from tests.conftest import assert_no_traceback, run_script

MISSING = "/nonexistent/data"


@pytest.mark.parametrize(
    ("script", "args", "env", "named"),
    [
        ("latency", [], {"MNIST_NPZ": f"{MISSING}/mnist.npz"}, "mnist.npz"),
        ("saliency", [], {"MNIST_NPZ": f"{MISSING}/mnist.npz"}, "mnist.npz"),
        ("read_numbers", [], {"MNIST_NPZ": f"{MISSING}/mnist.npz"}, "mnist.npz"),
        ("accuracy", [], {"MNIST_NPZ": f"{MISSING}/mnist.npz"}, "mnist.npz"),
        ("train", ["--epochs", "1"], {"MNIST_NPZ": f"{MISSING}/mnist.npz"}, "mnist.npz"),
        ("step_cost", ["--change", "fused-batch-norm"], {"MNIST_NPZ": f"{MISSING}/mnist.npz"}, "mnist.npz"),
        ("shifted_views", ["--model", "model/cnn.keras"], {"MNIST_NPZ": f"{MISSING}/mnist.npz"}, "mnist.npz"),
        ("drawn", ["--writers-dir", MISSING], {}, "ujipenchars2-digits.json"),
        ("drawn", ["--held-out-bitmaps", "--writers-dir", MISSING], {}, "optdigits-orig.windep.gz"),
        ("usps", ["--usps", MISSING], {}, "zip.test.gz"),
        # Without a path flag, the folder the environment names, as train.py reads it.
        ("drawn", [], {"WRITERS_DIR": MISSING}, f"{MISSING}/uji/ujipenchars2-digits.json"),
        ("usps", [], {"USPS_DIR": MISSING}, f"{MISSING}/zip.test.gz"),
    ],
)
def test_a_benchmark_without_its_dataset_says_which_file_is_missing(script, args, env, named):
    process = run_script(f"bench/{script}.py", *args, env=env)
    assert process.returncode == 1
    last_line = process.stderr.strip().splitlines()[-1]
    assert last_line.startswith("error: ") and named in last_line
    assert_no_traceback(process)


@pytest.mark.parametrize(
    ("script", "args"),
    [
        ("train", ["--rounds", "0"]),
        ("drawn", ["--curled-nines", "--held-out-bitmaps"]),
        ("train", ["--epochs", "2", "--full"]),
        ("train", ["--filters-at-14x14", "0"]),
        ("train", ["--interleave", "--full"]),
        ("train", ["--epochs", "0"]),
        ("step_cost", ["--change", "label-smoothing", "--rounds", "x"]),
        ("step_cost", ["--change", "bf16"]),
        ("shifted_views", []),
    ],
)
def test_a_benchmark_given_a_bad_flag_exits_2_with_usage(script, args):
    process = run_script(f"bench/{script}.py", *args)
    assert process.returncode == 2
    assert "usage:" in process.stderr
    assert_no_traceback(process)
