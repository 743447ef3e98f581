"""digitlab.zoo: each seed model has the seed tutorial's exact layers."""

import pytest

from digitlab.zoo import RECIPES

EXPECTED_PARAMETERS = {
    "mlp-small": 27_882,
    "mlp-wide": 407_050,
    "cnn-sgd": 563_114,
    "mlp-deep": 71_626,
    "cnn-functional": 1_045_576,
    "cnn": 459_946,
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


def test_the_zoo_is_the_five_seeds_plus_the_default():
    assert set(RECIPES) == set(EXPECTED_PARAMETERS)
