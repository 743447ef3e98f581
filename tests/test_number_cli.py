"""`predict.py --number` through a subprocess: whole numbers in image files, as a user would run it."""

import json

import numpy as np
import pytest
from PIL import Image

from digitlab.synthetic import render_number
from tests.conftest import assert_no_traceback, run_script
from tests.test_segment import blank, handwritten


@pytest.fixture(scope="module")
def numbers(mnist, tmp_path_factory):
    """Pictures of numbers in several formats: {path: the number drawn}."""
    (_, _), (x_test, y_test) = mnist
    folder = tmp_path_factory.mktemp("numbers")
    expected = {}
    handwritten("2026", left=-30).save(folder / "a-drawn-2026.png")
    expected[folder / "a-drawn-2026.png"] = "2026"
    rng = np.random.default_rng(21)
    for index, suffix in enumerate([".png", ".jpg", ".webp", ".bmp", ".png", ".png"]):
        chosen = rng.integers(0, len(x_test), 2 + index % 4)
        picture, _ = render_number(x_test[chosen], rng)
        path = folder / f"b-mnist-{index}{suffix}"
        Image.fromarray(picture).convert("RGB").save(path)
        expected[path] = "".join(map(str, y_test[chosen]))
    return expected


def predict_number(*args):
    return run_script("predict.py", "--number", *args)


def test_numbers_are_read_from_files_of_every_format(numbers):
    process = predict_number(*numbers)
    assert process.returncode == 0, process.stderr
    lines = process.stdout.splitlines()
    assert [line.split(": ")[0] for line in lines] == [str(path) for path in numbers]
    read = {line.split(": ")[0]: line.split(": ")[1].split(" ")[0] for line in lines}
    assert read[str(next(iter(numbers)))] == "2026"
    assert sum(read[str(path)] == number for path, number in numbers.items()) >= len(numbers) - 1, read


def test_human_output_names_each_digit_and_its_confidence(numbers):
    path = next(iter(numbers))
    line = predict_number(path).stdout.strip()
    number_part, digits_part = line.split("  digits: ")
    assert number_part.startswith(f"{path}: 2026 (") and number_part.endswith(" %)")
    digits = digits_part.split(", ")
    assert [digit.split(" ")[0] for digit in digits] == ["2", "0", "2", "6"]
    assert all(digit.endswith(" %)") for digit in digits)


def test_json_holds_the_number_and_every_digit(numbers):
    path = next(iter(numbers))
    process = predict_number("--json", path)
    assert process.returncode == 0, process.stderr
    record = json.loads(process.stdout)
    assert set(record) == {"file", "number", "confidence", "digits"}
    assert record["file"] == str(path) and record["number"] == "2026"
    assert [digit["digit"] for digit in record["digits"]] == [2, 0, 2, 6]
    assert record["confidence"] == pytest.approx(np.prod([digit["confidence"] for digit in record["digits"]]))
    for digit in record["digits"]:
        assert set(digit) == {"digit", "confidence", "probabilities", "box"}
        assert len(digit["probabilities"]) == 10 and digit["confidence"] == max(digit["probabilities"])
        x0, y0, x1, y1 = digit["box"]
        assert 0 <= x0 < x1 <= 840 and 0 <= y0 < y1 <= 280
    lefts = [digit["box"][0] for digit in record["digits"]]
    assert lefts == sorted(lefts)


def test_a_blank_picture_has_no_number(tmp_path):
    path = tmp_path / "blank.png"
    blank().save(path)
    process = predict_number(path)
    assert process.returncode == 0 and process.stdout.strip() == f"{path}: no number found"
    record = json.loads(predict_number("--json", path).stdout)
    assert record == {"file": str(path), "number": "", "confidence": None, "digits": []}


def test_bad_inputs_get_one_line_each_and_the_rest_is_still_read(numbers, tmp_path):
    good = next(iter(numbers))
    (tmp_path / "notes.png").write_text("not a picture")
    process = predict_number(good, tmp_path / "notes.png", tmp_path / "missing.png")
    assert process.returncode == 1
    assert_no_traceback(process)
    lines = process.stdout.splitlines()
    assert lines[0].startswith(f"{good}: 2026 ")
    assert lines[1] == f"{tmp_path / 'notes.png'}: error: not an image Pillow can read (PNG, JPEG, BMP, GIF, WebP)"
    assert lines[2] == f"{tmp_path / 'missing.png'}: error: no such file"
    records = [
        json.loads(line) for line in predict_number("--json", tmp_path / "missing.png", good).stdout.splitlines()
    ]
    assert records[0] == {"file": str(tmp_path / "missing.png"), "error": "no such file"}
    assert records[1]["number"] == "2026"


def test_top_is_refused_with_number(numbers):
    process = predict_number("--top", "3", next(iter(numbers)))
    assert process.returncode == 2
    assert_no_traceback(process)
    assert "--top is for single digits" in process.stderr.splitlines()[-1]


def test_without_number_a_picture_is_still_read_as_one_digit(numbers):
    path = next(iter(numbers))
    record = json.loads(run_script("predict.py", "--json", path).stdout)
    assert set(record) == {"file", "digit", "confidence", "probabilities"}
