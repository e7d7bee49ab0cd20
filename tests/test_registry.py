"""Registries: names, aliases, normalisation and the errors that list the valid names."""

from __future__ import annotations

import pytest

import shenjing as sj
from shenjing.base.registry import Registry


def make_registry() -> Registry[int]:
    registry: Registry[int] = Registry("widget")
    registry.add(1, "leaky_relu", "leakyrelu")
    registry.add(2, "tanh")

    @registry.register("sigmoid", "logistic")
    def sigmoid() -> int:
        return 3

    return registry


def test_names_aliases_and_normalisation():
    registry = make_registry()
    for name in ("leaky_relu", "leakyrelu", "Leaky-ReLU", " LEAKY RELU ", "leaky relu"):
        assert registry.get(name) == 1, name
    assert registry.get("Logistic")() == 3
    assert registry.names() == ["leaky_relu", "sigmoid", "tanh"]  # canonical only, sorted
    assert list(registry) == registry.names()
    assert "TANH" in registry and "logistic" in registry
    assert "relu" not in registry and 3 not in registry


def test_a_name_registered_twice_is_refused():
    registry = make_registry()
    with pytest.raises(ValueError, match="widget name 'tanh' registered twice"):
        registry.add(4, "Tanh")


def test_a_non_string_name_is_refused():
    with pytest.raises(sj.ConfigError, match="widget name must be a string, got 3"):
        make_registry().get(3)


def test_an_unknown_name_lists_the_valid_ones_and_suggests_the_closest():
    with pytest.raises(sj.ConfigError) as info:
        make_registry().get("tahn")
    assert str(info.value) == (
        "Unknown widget 'tahn'; valid names: leaky_relu, sigmoid, tanh. Did you mean 'tanh'?"
    )


def test_no_suggestion_when_nothing_is_close():
    with pytest.raises(sj.ConfigError) as info:
        make_registry().get("qqqqqq")
    assert "Did you mean" not in str(info.value)
    assert "valid names: leaky_relu, sigmoid, tanh." in str(info.value)


@pytest.mark.parametrize(
    ("get", "typo", "suggestion"),
    [
        (sj.activations.get, "relux", "relu"),
        (sj.activations.get, "sigmod", "sigmoid"),
        (sj.losses.get, "msee", "mse"),
        (sj.losses.get, "huberr", "huber"),
        (sj.metrics.get, "acuracy", "accuracy"),
        (sj.initializers.INITIALIZERS.get, "xavir", "xavier"),
    ],
)
def test_the_public_registries_suggest_the_closest_name(get, typo, suggestion):
    with pytest.raises(sj.ConfigError, match=f"Did you mean '{suggestion}'\\?"):
        get(typo)


def test_the_public_names():
    assert sj.activations.names() == [
        "elu",
        "gelu",
        "identity",
        "leaky_relu",
        "relu",
        "sigmoid",
        "softplus",
        "tanh",
    ]
    assert sj.losses.names() == [
        "binary_cross_entropy",
        "huber",
        "mse",
        "poisson",
        "softmax_cross_entropy",
        "sse",
    ]


def test_create_from_name_class_or_instance():
    adam = sj.optim.get("adam", lr=0.1)
    assert isinstance(adam, sj.Adam) and adam.lr == 0.1
    assert sj.optim.get(sj.SGD, lr=0.5).lr == 0.5
    assert sj.optim.get(adam) is adam
    with pytest.raises(sj.ConfigError, match="only be given with a name or class"):
        sj.optim.get(adam, lr=0.2)
    relu = sj.ReLU()
    assert sj.activations.get(relu) is relu
    assert isinstance(sj.losses.get(sj.Huber), sj.Huber)
    with pytest.raises(sj.ConfigError, match="valid names"):
        sj.losses.get("hubber")
