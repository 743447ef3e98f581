"""One canvas drawing → probabilities: preprocessing, model and total time against model.predict.

All figures come from the same run, so the ratio holds even on a busy machine.

    python bench/latency.py [--model PATH] [--repeats N]
"""

import argparse

import numpy as np
from common import ROOT, print_table, run_benchmark, summary, timings_ms, write_result

from digitlab.data import load_mnist
from digitlab.inference import load_classifier
from digitlab.preprocess import to_mnist
from digitlab.synthetic import render_on_canvas


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "model" / "cnn.keras"))
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()

    classifier = load_classifier(args.model)
    (_, _), (x_test, _) = load_mnist()
    canvas = render_on_canvas(x_test[0], np.random.default_rng(0))
    model_input = to_mnist(canvas)
    batch = model_input.reshape(1, 28, 28, 1)

    rows = {
        "preprocess (to_mnist, 280×280 RGBA)": timings_ms(lambda: to_mnist(canvas), args.repeats),
        "model (compiled call, 1×28×28)": timings_ms(lambda: classifier.probabilities(batch), args.repeats),
        "total: load_classifier().predict(canvas)": timings_ms(lambda: classifier.predict(canvas), args.repeats),
        "reference: model(x) direct call": timings_ms(lambda: classifier.model(batch, training=False), args.repeats),
        "reference: model.predict(x)": timings_ms(
            lambda: classifier.model.predict(batch, verbose=0), args.repeats // 3
        ),
    }
    results = {name: summary(samples) for name, samples in rows.items()}
    total, reference = results["total: load_classifier().predict(canvas)"], results["reference: model.predict(x)"]
    ratio = total["p50_ms"] / reference["p50_ms"]
    print_table(["step", "p50 ms", "p95 ms"], [[n, r["p50_ms"], r["p95_ms"]] for n, r in results.items()])
    print(f"\ntotal p50 / model.predict p50 = {ratio:.3f} (goal ≤ 0.05; goal p50 ≤ 2 ms)")
    write_result("latency", {"model": args.model, "steps": results, "total_over_model_predict": round(ratio, 4)})


if __name__ == "__main__":
    run_benchmark(main)
