"""Digit Lab: draw a digit, and a Keras CNN trained on MNIST reads it."""


def load_classifier(path=None):
    """Load a model (default: the shipped `model/cnn.keras`) as a Classifier; see digitlab.inference."""
    from digitlab.inference import load_classifier as load

    return load(path)


__all__ = ["load_classifier"]
