"""Digit Lab: draw a digit, and a Keras CNN trained on MNIST reads it."""

import os

# TensorFlow's C++ start-up chatter (CUDA probing on a machine without a GPU) is not for users.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
