"""How long "how it sees" takes for one drawing: saliency and feature maps against the plain forward pass.

Saliency is integrated gradients over SALIENCY_STEPS points in one compiled call; the
reference is the same model's compiled forward pass on one input, as the Draw page reads a
drawing, measured in the same run, so the ratio holds even on a busy machine. Goal: saliency
under 100 ms (p95).

    python bench/saliency.py [--models cnn mlp-wide] [--repeats N]
"""

import argparse

import numpy as np
from common import ROOT, print_table, run_benchmark, summary, timings_ms, write_result

from digitlab.data import load_mnist
from digitlab.explain import SALIENCY_STEPS, Explainer
from digitlab.inference import load_classifier
from digitlab.preprocess import to_mnist
from digitlab.synthetic import render_on_canvas

GOAL_MS = 100.0
FORWARD = "forward pass (compiled, 1×28×28)"
SALIENCY = f"saliency (integrated gradients, {SALIENCY_STEPS} steps)"
FEATURES = "feature maps (first two Conv2D)"


def measure(name, model_input, repeats):
    """p50/p95 of the forward pass, the saliency and the feature maps of one model."""
    classifier = load_classifier(ROOT / "model" / f"{name}.keras")
    explainer = Explainer(classifier.model)
    target = classifier.predict_model_input(model_input).digit
    steps = {
        FORWARD: timings_ms(lambda: classifier.probabilities([model_input]), repeats),
        SALIENCY: timings_ms(lambda: explainer.saliency(model_input, target), repeats),
    }
    if explainer.feature_maps(model_input):
        steps[FEATURES] = timings_ms(lambda: explainer.feature_maps(model_input), repeats)
    return {step: summary(samples) for step, samples in steps.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["cnn", "mlp-wide"])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()

    (_, _), (x_test, _) = load_mnist()
    model_input = to_mnist(render_on_canvas(x_test[0], np.random.default_rng(0)))
    results, rows, ratios = {}, [], {}
    for name in args.models:
        results[name] = measure(name, model_input, args.repeats)
        ratios[name] = round(results[name][SALIENCY]["p50_ms"] / results[name][FORWARD]["p50_ms"], 1)
        rows += [[name, step, r["p50_ms"], r["p95_ms"]] for step, r in results[name].items()]
    print_table(["model", "step", "p50 ms", "p95 ms"], rows)
    print()
    for name, ratio in ratios.items():
        verdict = "met" if results[name][SALIENCY]["p95_ms"] < GOAL_MS else "NOT met"
        print(f"{name}: saliency p50 = {ratio}× the forward pass; goal p95 < {GOAL_MS:.0f} ms {verdict}")
    write_result(
        "saliency",
        {"steps": SALIENCY_STEPS, "goal_p95_ms": GOAL_MS, "models": results, "saliency_over_forward_p50": ratios},
    )


if __name__ == "__main__":
    run_benchmark(main)
