"""predict.py through a subprocess, on generated image files of every format and mode."""

import json
import shutil
import struct
import zlib

import keras
import numpy as np
import pytest
from PIL import Image, ImageDraw

from digitlab.store import MODEL_DIR
from tests.conftest import assert_no_traceback, run_script

MODEL = MODEL_DIR / "mlp-wide.keras"


def mnist_digit_picture(mnist, index, size=200, dark_on_light=True):
    """An MNIST test digit drawn large on a bigger page, as a person's scan would look."""
    (_, _), (x_test, y_test) = mnist
    page = Image.new("L", (size + 80, size + 60), 0)
    page.paste(Image.fromarray(x_test[index]).resize((size, size), Image.Resampling.BICUBIC), (50, 20))
    pixels = np.asarray(page)
    return Image.fromarray(255 - pixels if dark_on_light else pixels), int(y_test[index])


@pytest.fixture(scope="module")
def pictures(mnist, tmp_path_factory):
    """One file per format and mode, each holding a known MNIST digit; returns {path: digit}."""
    folder = tmp_path_factory.mktemp("pictures")
    expected = {}
    variants = [
        ("a.png", "L", True),
        ("b.jpg", "RGB", True),
        ("c.bmp", "RGB", False),
        ("d.gif", "P", True),
        ("e.webp", "RGB", True),
        ("f.png", "RGBA", True),
        ("g.png", "LA", False),
    ]
    for index, (name, mode, dark_on_light) in enumerate(variants):
        picture, digit = mnist_digit_picture(mnist, index, dark_on_light=dark_on_light)
        picture.convert(mode).save(folder / name)
        expected[folder / name] = digit
    transparent = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    ImageDraw.Draw(transparent).line([(140, 40), (140, 240)], fill=(20, 20, 200, 255), width=18)
    transparent.save(folder / "h-transparent-1.png")
    expected[folder / "h-transparent-1.png"] = 1
    return expected


def png_header_only(width, height):
    """The start of a PNG that claims to be `width`×`height` pixels: a decompression bomb's shape."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1000)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def predict(*args):
    return run_script("predict.py", "--model", MODEL, *args)


def test_every_format_and_mode_is_read(pictures):
    process = predict("--json", *pictures)
    assert process.returncode == 0, process.stderr
    records = [json.loads(line) for line in process.stdout.splitlines()]
    assert [r["file"] for r in records] == [str(p) for p in pictures]
    read = {r["file"]: r["digit"] for r in records}
    correct = sum(read[str(path)] == digit for path, digit in pictures.items())
    assert correct >= len(pictures) - 1, read


def test_json_schema(pictures):
    path = next(iter(pictures))
    record = json.loads(predict("--json", path).stdout)
    assert set(record) == {"file", "digit", "confidence", "probabilities"}
    assert isinstance(record["digit"], int) and 0 <= record["confidence"] <= 1
    assert len(record["probabilities"]) == 10 and sum(record["probabilities"]) == pytest.approx(1, abs=1e-5)
    assert record["confidence"] == max(record["probabilities"])


def test_human_output_and_top_k(pictures):
    path = next(iter(pictures))
    process = predict("--top", "3", path)
    assert process.returncode == 0
    line = process.stdout.strip()
    assert line.startswith(f"{path}: ") and " %)" in line and line.count(" %)") == 3 and "next:" in line


def test_a_folder_is_expanded_in_sorted_order(pictures):
    folder = next(iter(pictures)).parent
    process = predict(folder)
    assert process.returncode == 0
    assert len(process.stdout.splitlines()) == len(pictures)


def test_blank_image_says_no_digit_found(tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("RGB", (280, 280), "white").save(blank)
    process = predict(blank)
    assert process.returncode == 0 and process.stdout.strip() == f"{blank}: no digit found"
    assert json.loads(predict("--json", blank).stdout)["digit"] is None


def test_bad_inputs_are_reported_and_the_good_ones_still_classified(pictures, tmp_path):
    good = next(iter(pictures))
    (tmp_path / "text.png").write_text("this is not a picture")
    (tmp_path / "empty.png").write_bytes(b"")
    truncated = good.read_bytes()[: len(good.read_bytes()) // 2]
    (tmp_path / "truncated.png").write_bytes(truncated)
    (tmp_path / "bomb.png").write_bytes(png_header_only(30000, 30000))
    (tmp_path / "drawing.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    empty_folder = tmp_path / "nothing-here"
    empty_folder.mkdir()
    names = ["text.png", "empty.png", "truncated.png", "missing.png", "bomb.png", "drawing.svg", "nothing-here"]
    bad = [tmp_path / name for name in names]
    process = predict("--json", good, *bad)
    assert process.returncode == 1
    assert_no_traceback(process)
    records = [json.loads(line) for line in process.stdout.splitlines()]
    assert records[0]["file"] == str(good) and records[0]["digit"] == pictures[good]
    assert [r["file"] for r in records[1:]] == [str(p) for p in bad]
    assert all(set(r) == {"file", "error"} for r in records[1:])
    errors = {r["file"].rsplit("/", 1)[-1]: r["error"] for r in records[1:]}
    assert "too large" in errors["bomb.png"] and "no such file" in errors["missing.png"]
    assert "folder holds no images" in errors["nothing-here"] and "not an image" in errors["drawing.svg"]


@pytest.mark.parametrize("args", [[], ["--top", "0", "x.png"], ["--top", "11", "x.png"], ["--bogus", "x.png"]])
def test_usage_errors_exit_2(args):
    process = run_script("predict.py", *args)
    assert process.returncode == 2 and "usage:" in process.stderr
    assert_no_traceback(process)


def test_a_card_that_does_not_match_its_model_is_refused(tmp_path, pictures):
    shutil.copy(MODEL, tmp_path / "mlp-wide.keras")
    card = json.loads(MODEL.with_suffix(".json").read_text())
    (tmp_path / "mlp-wide.json").write_text(json.dumps({**card, "model_sha256": "0" * 64}))
    process = run_script("predict.py", "--model", tmp_path / "mlp-wide.keras", next(iter(pictures)))
    assert process.returncode == 1 and "describes a different model file" in process.stderr
    assert_no_traceback(process)


def test_a_model_with_the_wrong_input_shape_is_refused(tmp_path, pictures):
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.save(tmp_path / "odd.keras")
    process = run_script("predict.py", "--model", tmp_path / "odd.keras", next(iter(pictures)))
    assert process.returncode == 1 and "a digit model takes" in process.stderr
    assert_no_traceback(process)


def test_a_missing_or_corrupt_model_exits_1_with_the_fix(tmp_path, pictures):
    corrupt = tmp_path / "broken.keras"
    corrupt.write_bytes(b"not a model")
    for model, reason in ((tmp_path / "absent.keras", "no such file"), (corrupt, "truncated or corrupt")):
        process = run_script("predict.py", "--model", model, next(iter(pictures)))
        assert process.returncode == 1 and model.name in process.stderr and reason in process.stderr
        assert_no_traceback(process)
