"""Print the README's zoo table from the model cards in model/ (figures measured by train.py).

python bench/zoo_table.py
"""

from common import ROOT  # noqa: F401  (puts the project on sys.path)

from digitlab.store import MODEL_DIR, list_models, load_card


def main():
    print("| model | parameters | seed's figure | measured test accuracy | training time (2-core CPU) |")
    print("|---|---:|---|---:|---:|")
    for path in list_models(MODEL_DIR):
        card = load_card(path)
        minutes, seconds = divmod(round(card["training_seconds"]), 60)
        print(
            f"| `{card['name']}` | {card['parameters']:,} | {card['seed_figure']} | "
            f"{card['test_accuracy']:.2%} | {minutes} min {seconds:02d} s |"
        )


if __name__ == "__main__":
    main()
