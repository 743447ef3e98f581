"""digitlab.zoo: each seed model has the seed tutorial's exact layers; the project's own recipes."""

import dataclasses

import pytest

from digitlab.zoo import RECIPES

EXPECTED_PARAMETERS = {
    "mlp-small": 27_882,
    "mlp-wide": 407_050,
    "cnn-sgd": 563_114,
    "mlp-deep": 71_626,
    "cnn-functional": 1_045_576,
    "cnn": 497_066,
}


@pytest.mark.parametrize("name", sorted(EXPECTED_PARAMETERS))
def test_parameter_count_and_output_shape(name):
    model = RECIPES[name].build()
    assert model.count_params() == EXPECTED_PARAMETERS[name]
    assert model.input_shape == (None, 28, 28, 1)
    assert model.output_shape == (None, 10)


def test_every_recipe_makes_its_optimizer():
    for recipe in RECIPES.values():
        optimizer = recipe.make_optimizer(steps_per_epoch=100)
        assert optimizer is not None, recipe.name


@pytest.mark.parametrize("epochs", [1, 3, None])
def test_the_default_schedule_spans_the_epochs_actually_trained(epochs):
    recipe = RECIPES["cnn"]
    optimizer = recipe.make_optimizer(steps_per_epoch=10, epochs=epochs)
    total_steps = 10 * (epochs or recipe.epochs)
    rates = []
    for step in (0, total_steps // 2, total_steps):
        optimizer.iterations.assign(step)
        rates.append(float(optimizer.learning_rate))
    assert rates[0] == pytest.approx(recipe.learning_rate / 10)
    assert rates[1] > rates[2]
    assert rates[2] == pytest.approx(0.0, abs=1e-6)


def test_the_zoo_is_the_five_seeds_plus_the_default():
    assert set(RECIPES) == set(EXPECTED_PARAMETERS)


def test_only_the_default_trains_on_other_writers_digits():
    assert [name for name, recipe in RECIPES.items() if recipe.usps_train] == ["cnn"]
    assert "USPS's test file is never trained on" in " ".join(RECIPES["cnn"].notes)
    assert [name for name, recipe in RECIPES.items() if recipe.writers_train] == ["cnn"]
    assert "W41–W60 are never trained on" in " ".join(RECIPES["cnn"].notes)


def test_cnn_keeps_a_moving_average_of_its_weights_only_when_its_recipe_asks():
    averaged = dataclasses.replace(RECIPES["cnn"], ema_momentum=0.999)
    optimizer = averaged.make_optimizer(steps_per_epoch=10)
    assert optimizer.use_ema and optimizer.ema_momentum == 0.999
    assert not RECIPES["cnn"].make_optimizer(steps_per_epoch=10).use_ema
