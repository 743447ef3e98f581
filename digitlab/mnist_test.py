"""MNIST's test split on any machine: from the full MNIST file when it is here, else from Digit Lab's own copy.

`digitlab/datasets/mnist-test.npz` holds MNIST's 10,000 test digits and labels (1.6 MB,
compressed), so that the Dataset page, the Model page's measurements and `digitlab import`
work at once on a machine that is offline. Training needs the training split, which is not
shipped: `digitlab.data.load_mnist` finds it (MNIST_NPZ or a download) and says how when it cannot.
"""

import os
import zipfile
from pathlib import Path

import numpy as np

from digitlab.data import ENV_VAR, MNIST_SHA256, DatasetError, array_hashes, load_mnist

SHIPPED = Path(__file__).resolve().parent / "datasets" / "mnist-test.npz"


def keras_cache():
    """Where Keras keeps its downloaded mnist.npz."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "datasets" / "mnist.npz"


def full_mnist_here():
    """Whether the full MNIST file is on this machine (MNIST_NPZ, or Keras's cache), so that no download is needed."""
    return bool(os.environ.get(ENV_VAR)) or keras_cache().is_file()


def shipped_test_split():
    """The shipped copy of MNIST's test split, checked byte for byte against the official MNIST."""
    try:
        with np.load(SHIPPED, allow_pickle=False) as npz:
            arrays = {"x_test": npz["x_test"], "y_test": npz["y_test"]}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as error:
        raise DatasetError(f"{SHIPPED}: unreadable ({error}); reinstall Digit Lab or set {ENV_VAR}.") from None
    if any(digest != MNIST_SHA256[name] for name, digest in array_hashes(arrays).items()):
        raise DatasetError(f"{SHIPPED}: differs from the official MNIST test split; reinstall Digit Lab.")
    return arrays["x_test"], arrays["y_test"]


def load_test_split():
    """MNIST's test split `(images, labels)`: from the full file when it is here, else from the shipped copy."""
    if full_mnist_here():
        return load_mnist()[1]
    return shipped_test_split()
