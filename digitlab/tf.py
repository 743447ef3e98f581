"""TensorFlow and Keras, imported without the C++ start-up chatter they print on a CPU-only machine.

TensorFlow writes its oneDNN and CUDA-probing notices straight to file descriptor 2 before its
own log settings apply, so they are silenced at the descriptor for the length of the import.
Set DIGITLAB_TF_LOGS=1 to see them.
"""

import contextlib
import os
import sys


@contextlib.contextmanager
def _stderr_silenced():
    if os.environ.get("DIGITLAB_TF_LOGS") == "1":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

with _stderr_silenced():
    import keras
    import tensorflow as tf

    tf.config.list_physical_devices()  # Probing for GPUs is what prints the CUDA notices.

__all__ = ["keras", "tf"]
