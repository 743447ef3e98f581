"""train.py through a subprocess, as a user runs it."""

import json

import pytest

from digitlab.tf import keras
from digitlab.train_cli import parse_args, with_overrides
from digitlab.zoo import RECIPES
from tests.conftest import assert_no_traceback, run_script, small_npz

CARD_KEYS = {
    "name",
    "seed_source",
    "seed_figure",
    "parameters",
    "layers",
    "recipe",
    "history",
    "test_loss",
    "test_accuracy",
    "per_class",
    "confusion_matrix",
    "training_seconds",
    "dataset_sha256",
    "versions",
    "date",
    "random_seed",
    "model_sha256",
}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, mnist_file):
    out = tmp_path_factory.mktemp("models")
    process = run_script("train.py", "--arch", "mlp-small", "--epochs", "2", "--limit", "3000", "--out", out)
    return process, out


def test_training_writes_the_model_and_a_full_card(quick_run):
    process, out = quick_run
    assert process.returncode == 0, process.stderr
    assert sorted(p.name for p in out.iterdir()) == ["mlp-small.json", "mlp-small.keras"]
    card = json.loads((out / "mlp-small.json").read_text())
    assert set(card) >= CARD_KEYS
    assert card["recipe"]["epochs"] == 2 and card["recipe"]["batch_size"] == 100 and card["limit"] == 3000
    assert len(card["history"]["val_accuracy"]) == 2 and len(card["history"]["loss"]) == 2
    assert len(card["confusion_matrix"]) == 10 and sum(map(sum, card["confusion_matrix"])) == 10000
    assert 0.5 < card["test_accuracy"] < 1.0
    assert "test accuracy" in process.stdout and "Epoch 2/2" in process.stdout


def test_the_card_names_its_model_file(quick_run):
    from digitlab.store import file_sha256

    _, out = quick_run
    card = json.loads((out / "mlp-small.json").read_text())
    assert card["model_sha256"] == file_sha256(out / "mlp-small.keras")


@pytest.mark.parametrize(
    "args",
    [
        ["--arch", "resnet"],
        ["--epochs", "0"],
        ["--batch-size", "x"],
        ["--all", "--arch", "cnn"],
        ["--bogus"],
        ["--join-strokes", "1.5"],
        ["--curl-tails", "1.5"],
        ["--overshoot", "-0.1"],
        ["--shear", "2"],
        ["--stretch", "-0.2"],
        ["--curl-radius", "0.4,0.2"],
        ["--curl-radius", "0.3"],
        ["--mix-up", "2"],
        ["--hold-out-bitmaps", "yes"],
        ["--label-smoothing", "1.5"],
        ["--ema", "1.2"],
        ["--usps-weight", "0"],
        ["--weight-decay", "-0.1"],
        ["--usps-weight", "x"],
        ["--bitmap-weight", "0"],
        ["--bitmap-weight", "x"],
        ["--pen-width", "-1"],
        ["--usps-holdout", "0"],
        ["--conv-at-7x7", "-1"],
        ["--filters-at-14x14", "0"],
        ["--filters-at-14x14", "48,x"],
        ["--filters-at-14x14", "8,8,8,8"],
        ["--deskew", "yes"],
        ["--elastic", "6"],
        ["--dropout", "1"],
        ["--dropout", "x"],
        ["--precision", "float16"],
    ],
)
def test_bad_flags_exit_2_with_usage(args):
    process = run_script("train.py", *args)
    assert process.returncode == 2
    assert "usage:" in process.stderr
    assert_no_traceback(process)


def test_missing_dataset_exits_1_naming_the_file_and_the_fix(tmp_path):
    missing = tmp_path / "mnist.npz"
    process = run_script("train.py", "--data", missing, "--out", tmp_path)
    assert process.returncode == 1
    assert str(missing) in process.stderr and "MNIST_NPZ" in process.stderr
    assert_no_traceback(process)
    assert list(tmp_path.iterdir()) == []


def train_small_cnn(tmp_path, usps_folder, writers_folder, *flags):
    """The card of `cnn` trained for one epoch by train.py on 50 MNIST digits, USPS and the writers, with `flags`."""
    small = small_npz(tmp_path / "small.npz")
    out = tmp_path / "out"
    process = run_script(
        "train.py",
        *["--arch", "cnn", "--data", small, "--usps", usps_folder, "--writers", writers_folder],
        *["--epochs", "1", "--out", out, *flags],
    )
    assert process.returncode == 0, process.stderr
    return json.loads((out / "cnn.json").read_text())


def test_cnn_trains_on_mnist_usps_and_the_writers_and_its_card_says_so(tmp_path, usps_folder, writers_folder):
    card = train_small_cnn(tmp_path, usps_folder, writers_folder, "--uji-renders", "2")
    assert [(s["source"], s["digits"]) for s in card["training_data"]] == [
        ("MNIST train", 50),
        ("USPS train", 7291),
        ("UJI pen digits W01–W40 (2 renders each)", 1600),
        ("optdigits", 4677),
        ("Semeion", 1593),
    ]
    assert card["train_images"] == 50 + 7291 + 1600 + 4677 + 1593
    assert 0 < card["usps_test_accuracy"] <= 1 and 0 < card["drawn_test_accuracy"] <= 1
    assert card["drawn_validation_accuracy"] is None
    assert card["recipe"]["conv_at_7x7"] == 64
    assert {"type": "Conv2D", "output_shape": "(None, 7, 7, 64)"}.items() <= card["layers"][-10].items()
    assert "USPS's test file is never trained on" in " ".join(card["recipe"]["notes"])


def test_a_screening_run_measures_the_digits_it_held_out(tmp_path, usps_folder, writers_folder):
    card = train_small_cnn(
        tmp_path,
        usps_folder,
        writers_folder,
        *["--uji-renders", "1", "--uji-writers", "1-30", "--usps-holdout", "1000", "--mnist-holdout", "10"],
        *["--pen-width", "0.8"],
        *["--conv-at-7x7", "16", "--filters-at-14x14", "8", "--deskew", "--dropout", "0.4", "--precision", "bfloat16"],
    )
    assert card["training_data"][0] | {"sha256": ""} == {
        "source": "MNIST train (the last 10 held out)",
        "digits": 40,
        "sha256": "",
    }
    assert card["training_data"][1]["source"] == "USPS train (the last 1000 held out)"
    assert card["training_data"][1]["digits"] == 6291 and card["recipe"]["pen_width"] == 0.8
    assert card["recipe"]["conv_at_7x7"] == 16
    assert {"type": "Conv2D", "output_shape": "(None, 7, 7, 16)"}.items() <= card["layers"][-10].items()
    assert card["recipe"]["filters_at_14x14"] == [8]
    assert card["recipe"]["deskew"] is True and card["layers"][1]["type"] == "Deskew"
    assert card["recipe"]["dropout"] == 0.4 and card["recipe"]["precision"] == "bfloat16"
    assert [row["output_shape"] for row in card["layers"] if row["type"] == "Conv2D"][1:3] == [
        "(None, 14, 14, 8)",
        "(None, 7, 7, 16)",
    ]
    assert 0 < card["usps_validation_accuracy"] <= 1 and 0 < card["drawn_validation_accuracy"] <= 1
    assert card["mnist_validation_accuracy"] in {share / 10 for share in range(11)}
    assert card["drawn_validation_writers"] == "W31–W40"
    assert card["bitmap_validation_accuracy"] is None


def test_a_screening_run_can_hold_out_the_other_writers_bitmaps_and_measure_them(tmp_path, usps_folder, writers_folder):
    card = train_small_cnn(
        tmp_path,
        usps_folder,
        writers_folder,
        "--uji-renders",
        "1",
        "--hold-out-bitmaps",
        "--stretch",
        "0.2",
        "--curl-tails",
        "0.5",
        "--curl-radius",
        "0.2,0.4",
        "--mix-up",
        "0.2",
        "--elastic",
        "1.5",
        "--bitmap-weight",
        "3",
    )
    assert card["training_data"][2]["source"].endswith(
        "(1 renders each, 50% of 9s' copies with a curled tail of radius 20%–40% of the height)"
    )
    assert [(s["source"], s["digits"]) for s in card["training_data"]][3:] == [
        ("optdigits (.tra and .cv; .windep held out)", 1934 + 946),
    ]
    assert card["recipe"]["stretch"] == 0.2 and card["recipe"]["mix_up"] == 0.2
    assert card["recipe"]["elastic"] == 1.5 and card["recipe"]["bitmap_weight"] == 3.0
    assert 0 < card["bitmap_validation_accuracy"] <= 1


@pytest.mark.parametrize("flag, digits", [("--usps-holdout", "7291"), ("--mnist-holdout", "60000")])
def test_holding_out_all_of_a_training_set_is_refused_in_one_line(flag, digits, tmp_path, usps_folder):
    process = run_script("train.py", "--usps", usps_folder, flag, digits, "--out", tmp_path)
    assert process.returncode == 1 and "hold out fewer" in process.stderr
    assert_no_traceback(process)


@pytest.mark.parametrize("writers", ["41-60", "35-45", "0-10", "one"])
def test_the_held_out_writers_cannot_be_trained_on(writers, tmp_path):
    process = run_script("train.py", "--uji-writers", writers, "--out", tmp_path)
    assert process.returncode == 2 and "usage:" in process.stderr
    assert_no_traceback(process)


def test_missing_writers_exit_1_before_training_anything(tmp_path, usps_folder):
    process = run_script(
        "train.py", "--writers", tmp_path / "nowhere", "--usps", usps_folder, "--out", tmp_path / "out"
    )
    assert process.returncode == 1
    assert "ujipenchars2-digits.json: no such file" in process.stderr and "WRITERS_DIR" in process.stderr
    assert "Training" not in process.stdout
    assert_no_traceback(process)


def test_missing_usps_exits_1_before_training_anything(tmp_path):
    process = run_script(
        "train.py", "--all", "--limit", "70000", "--usps", tmp_path / "nowhere", "--out", tmp_path / "out"
    )
    assert process.returncode == 1
    assert "zip.train.gz: no such file" in process.stderr and "USPS_DIR" in process.stderr
    assert "Training" not in process.stdout
    assert_no_traceback(process)
    assert not (tmp_path / "out").exists()


def test_corrupt_dataset_exits_1(tmp_path):
    corrupt = tmp_path / "mnist.npz"
    corrupt.write_bytes(b"PK\x03\x04 truncated")
    process = run_script("train.py", "--data", corrupt, "--out", tmp_path / "out")
    assert process.returncode == 1 and "not a readable .npz" in process.stderr
    assert_no_traceback(process)


@pytest.mark.parametrize(("flags", "filters"), [([], 64), (["--conv-at-7x7", "0"], 0), (["--conv-at-7x7", "32"], 32)])
def test_the_extra_convolution_is_the_recipes_unless_a_flag_overrides_it(flags, filters):
    args = parse_args(flags)
    assert with_overrides(RECIPES["cnn"], args).conv_at_7x7 == filters
    assert with_overrides(RECIPES["mlp-small"], args).conv_at_7x7 == 0


@pytest.mark.parametrize(("flags", "rate"), [([], 0.2), (["--dropout", "0.4"], 0.4), (["--dropout", "0"], 0.0)])
def test_the_dropout_around_the_dense_layer_is_the_recipes_unless_a_flag_overrides_it(flags, rate):
    recipe = with_overrides(RECIPES["cnn"], parse_args(flags))
    assert [layer.rate for layer in recipe.build().layers if isinstance(layer, keras.layers.Dropout)] == [rate, rate]
    assert with_overrides(RECIPES["mlp-small"], parse_args(flags)).dropout is None


@pytest.mark.parametrize(("flags", "deskew"), [([], False), (["--deskew"], True), (["--no-deskew"], False)])
def test_deskewing_is_off_unless_a_flag_turns_it_on_for_the_cnn(flags, deskew):
    args = parse_args(flags)
    assert with_overrides(RECIPES["cnn"], args).deskew is deskew
    assert with_overrides(RECIPES["mlp-small"], args).deskew is False


@pytest.mark.parametrize(("flags", "filters"), [([], (64, 64)), (["--filters-at-14x14", "48,48"], (48, 48))])
def test_the_convolutions_between_the_poolings_are_the_recipes_unless_a_flag_overrides_them(flags, filters):
    args = parse_args(flags)
    assert with_overrides(RECIPES["cnn"], args).filters_at_14x14 == filters
    assert with_overrides(RECIPES["mlp-small"], args).filters_at_14x14 == ()


def test_the_slant_augmentation_is_off_unless_a_flag_turns_it_on():
    assert with_overrides(RECIPES["cnn"], parse_args([])).shear == 0.0
    assert with_overrides(RECIPES["cnn"], parse_args(["--shear", "0.3"])).shear == 0.3


def test_label_smoothing_is_the_recipes_unless_a_flag_overrides_it():
    assert with_overrides(RECIPES["cnn"], parse_args([])).label_smoothing == 0.1
    assert with_overrides(RECIPES["cnn"], parse_args(["--label-smoothing", "0"])).label_smoothing == 0.0
    assert with_overrides(RECIPES["mlp-small"], parse_args([])).label_smoothing == 0.0


def test_weight_averaging_is_off_unless_a_flag_turns_it_on_for_cnn():
    assert with_overrides(RECIPES["cnn"], parse_args([])).ema_momentum == 0.0
    assert with_overrides(RECIPES["cnn"], parse_args(["--ema", "0.999"])).ema_momentum == 0.999
    assert with_overrides(RECIPES["mlp-small"], parse_args(["--ema", "0.999"])).ema_momentum == 0.0


def test_usps_and_the_bitmaps_count_once_unless_a_flag_weighs_them():
    assert with_overrides(RECIPES["cnn"], parse_args([])).usps_weight == 1.0
    assert with_overrides(RECIPES["cnn"], parse_args(["--usps-weight", "2"])).usps_weight == 2.0
    assert with_overrides(RECIPES["cnn"], parse_args([])).bitmap_weight == 1.0
    assert with_overrides(RECIPES["cnn"], parse_args(["--bitmap-weight", "3"])).bitmap_weight == 3.0


def test_weight_decay_is_the_recipes_unless_a_flag_overrides_it_for_cnn():
    assert with_overrides(RECIPES["cnn"], parse_args([])).weight_decay == 1e-4
    assert with_overrides(RECIPES["cnn"], parse_args(["--weight-decay", "0.05"])).weight_decay == 0.05
    assert with_overrides(RECIPES["mlp-small"], parse_args(["--weight-decay", "0.05"])).weight_decay == 0.0
    optimizer = with_overrides(RECIPES["cnn"], parse_args(["--weight-decay", "0.05"])).make_optimizer(100)
    assert optimizer.weight_decay == 0.05
