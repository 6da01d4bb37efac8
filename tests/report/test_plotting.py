"""Plotting: every function draws its table on the given Axes (or a new one) and returns it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from actnn import metrics  # noqa: E402
from actnn.report import plotting  # noqa: E402

RNG = np.random.default_rng(0)
N = 2_000
V = RNG.uniform(0.1, 1.0, N)
RATE_A = RNG.gamma(2.0, 0.05, N)
RATE_B = RATE_A * RNG.lognormal(0, 0.2, N)
Y = RNG.poisson(RATE_A * V)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_lorenz_draws_one_line_per_model_and_the_diagonal():
    curves = {"A": metrics.lorenz_curve(Y, RATE_A, V), "B": metrics.lorenz_curve(Y, RATE_B, V)}
    ginis = {k: metrics.gini(Y, r, V) for k, r in (("A", RATE_A), ("B", RATE_B))}
    ax = plotting.plot_lorenz(curves, ginis=ginis)
    assert len(ax.lines) == 3
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[1] == f"A (Gini {ginis['A']:.3f})"


def test_functions_draw_on_the_axes_they_are_given():
    _, ax = plt.subplots()
    calib = {"A": metrics.calibration_bins(Y / V, RATE_A, V)}
    assert plotting.plot_calibration(calib, ax=ax) is ax
    double = metrics.double_lift(Y, RATE_A, RATE_B, V)
    _, ax2 = plt.subplots()
    assert plotting.plot_double_lift(double, names=("A", "B"), ax=ax2) is ax2
    assert len(ax2.lines) == 3


def test_every_table_has_a_figure():
    feature = pd.Categorical(RNG.choice(["x", "y", "z"], N))
    bias = {"A": metrics.bias_by_feature(feature, Y / V, RATE_A, V)}
    pdp = {"A": pd.DataFrame({"value": [1, 2, 3], "prediction": [0.1, 0.2, 0.15],
                              "weight_share": [0.2, 0.5, 0.3]})}  # fmt: skip
    rel = pd.DataFrame({"value": ["x", "y"], "glm": [1.0, 1.2], "model": [1.0, 1.1],
                        "weight_share": [0.6, 0.4]})  # fmt: skip
    emb = pd.DataFrame({"feature": "R", "level": ["a", "b"], "dim_1": [0.1, -0.2],
                        "dim_2": [0.3, 0.0]})  # fmt: skip
    murphy = pd.concat([metrics.murphy_decomposition(Y / V, r, V) for r in (RATE_A, RATE_B)])
    murphy.index = ["A", "B"]
    ordered = metrics.ordered_lorenz(Y, RATE_A, RATE_B, V)
    ice = pd.DataFrame({"row": [0, 0, 1, 1], "value": [1, 2, 1, 2],
                        "prediction": [0.1, 0.2, 0.1, 0.3]})  # fmt: skip
    importance = pd.DataFrame({"feature": ["a", "b"], "increase": [0.2, 0.1], "std": [0, 0]})
    axes = [
        plotting.plot_bias_by_feature(bias, feature="f"),
        plotting.plot_marginal(bias, feature="f"),
        plotting.plot_partial_dependence(pdp, feature="f"),
        plotting.plot_relativities(rel, feature="f"),
        plotting.plot_embeddings(emb, "R"),
        plotting.plot_murphy(murphy),
        plotting.plot_ordered_lorenz(ordered, x="premium_share", y="loss_share", label="B"),
        plotting.plot_ice(ice, feature="f"),
        plotting.plot_importance(importance),
        plotting.plot_beta(pd.DataFrame({"t": [0.1, 0.2]}), pd.Series([1, 2], name="t"), "t"),
    ]
    for ax in axes:
        assert ax.has_data(), ax.get_title()
    assert len(axes[3].patches) == 4  # relativities: two bars per level


def test_figure_png_draws_without_pyplot_state():
    before = plt.get_fignums()
    png = plotting.figure_png(lambda ax: ax.plot([0, 1], [1, 0]))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and plt.get_fignums() == before


def test_plot_functions_check_their_arguments_before_drawing():
    curves = {"A": metrics.lorenz_curve(Y, RATE_A, V)}
    calibration = metrics.calibration_bins(Y / V, RATE_A, V)
    wrong = [
        (TypeError, "mapping of model name", lambda: plotting.plot_lorenz(object())),
        (TypeError, "got one DataFrame", lambda: plotting.plot_lorenz(curves["A"])),
        (ValueError, r"lacks \['exposure_share'", lambda: plotting.plot_lorenz({"A": calibration})),
        (TypeError, "Gini for every curve", lambda: plotting.plot_lorenz(curves, ginis={"B": 1})),
        (TypeError, "ax must be a matplotlib Axes", lambda: plotting.plot_lorenz(curves, ax=1)),
        (TypeError, "calibration_bins", lambda: plotting.plot_calibration([calibration])),
        (ValueError, "double_lift", lambda: plotting.plot_double_lift(calibration)),
        (TypeError, "names must be", lambda: plotting.plot_double_lift(
            metrics.double_lift(Y, RATE_A, RATE_B, V), names="AB")),
        (ValueError, "murphy", lambda: plotting.plot_murphy(calibration)),
        (TypeError, "DataFrame of metrics.ordered_lorenz", lambda: plotting.plot_ordered_lorenz(
            curves, x="premium_share", y="loss_share")),
        (ValueError, "no feature 'X'", lambda: plotting.plot_embeddings(pd.DataFrame(
            {"feature": ["R"], "level": ["a"], "dim_1": [0.1]}), "X")),
        (TypeError, "draw must be a function", lambda: plotting.figure_png(curves)),
    ]  # fmt: skip
    for error, match, call in wrong:
        with pytest.raises(error, match=match):
            call()
    assert plt.get_fignums() == []  # nothing was drawn
