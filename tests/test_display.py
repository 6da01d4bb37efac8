"""How networks, Nagging ensembles and training histories show themselves (text and HTML)."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from actnn._display import number  # noqa: E402
from actnn.datasets.presets import sw2019_network_inputs  # noqa: E402
from actnn.ensemble import Nagging  # noqa: E402
from actnn.networks import CANN, FNN, LocalGLMnet  # noqa: E402
from actnn.training import History  # noqa: E402

INPUTS = sw2019_network_inputs()
FAST = {"epochs": 2, "batch_size": 4096, "verbose": 0}
#: The text repr of a model stays a few lines.
MAX_LINES = 10


def _history(n: int, *, best: int, validation: bool = True) -> History:
    rng = np.random.default_rng(n)
    return History(
        loss=list(0.3 - 0.01 * np.sqrt(np.arange(n)) + rng.uniform(0, 1e-3, n)),
        val_loss=list(0.31 - 0.01 * np.sqrt(np.arange(n))) if validation else [],
        seconds=list(rng.uniform(0.01, 0.1, n)),
        learning_rate=[0.002] * n,
        best_epoch=best,
        stopped_early=True,
    )


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fnn(portfolio):
    return FNN(sw2019_network_inputs(), **FAST).fit(portfolio, "ClaimNb", exposure="Exposure")


def test_history_frame_has_one_row_per_epoch():
    history = _history(40, best=25)
    frame = history.to_frame()
    assert list(frame.columns) == ["loss", "val_loss", "learning_rate", "seconds"]
    assert frame.index.name == "epoch" and frame.index.tolist() == list(range(1, 41))
    np.testing.assert_array_equal(frame["val_loss"], history.val_loss)
    assert frame.attrs["units"]["loss"] == "weighted mean unit deviance"
    without = _history(5, best=3, validation=False).to_frame()
    assert without["val_loss"].isna().all() and len(without) == 5


def test_history_repr_is_short_and_names_the_best_epoch():
    history = _history(200, best=180)
    text = repr(history)
    assert len(text.splitlines()) <= 3 and len(text) < 300  # not 800 raw floats
    assert "200 epochs run, best epoch 180, stopped early" in text
    assert (
        f"loss {history.loss[179]:.5f}" in text and f"val_loss {history.val_loss[179]:.5f}" in text
    )
    html = history._repr_html_()
    assert "<table" in html and html.count("<tr") < 30  # the frame is cut, not 200 rows
    assert repr(History()).startswith("History\n  training: 0 epochs run, best epoch -")


def test_history_plot_returns_the_axes_with_both_losses():
    history = _history(30, best=20)
    ax = history.plot()
    assert isinstance(ax, matplotlib.axes.Axes)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), history.loss)
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), history.val_loss)
    assert ax.lines[2].get_xdata()[0] == 20  # the best epoch, marked
    _, given = plt.subplots()
    assert history.plot(ax=given) is given


def test_unfitted_networks_show_their_architecture(glm):
    models = [
        FNN(sw2019_network_inputs(), hidden=(8, 4), dropout=0.1),
        CANN(glm, sw2019_network_inputs(), nested=True),
        LocalGLMnet(sw2019_network_inputs()),
    ]
    for model in models:
        text = repr(model)
        assert text.startswith(f"{type(model).__name__}(poisson; not fitted)")
        assert "0x" not in text and len(text.splitlines()) <= MAX_LINES
        assert "<table" in model._repr_html_()
    assert "8, 4 units, tanh, dropout 0.1" in repr(models[0])
    assert "VehBrand (dim 2)" in repr(models[0])
    assert f"({len(glm.coef_)} coefficients), nested, coefficients frozen" in repr(models[1])
    assert "dummies: VehBrand, Region" in repr(models[2])


def test_jupyter_shows_actnn_displays_not_the_scikit_learn_diagram(glm):
    # IPython takes _repr_mimebundle_ (which scikit-learn's BaseEstimator defines) first
    for model in (glm, FNN(sw2019_network_inputs()), Nagging(lambda s: FNN(INPUTS), seeds=[1])):
        bundle = model._repr_mimebundle_()
        assert bundle == {"text/plain": repr(model), "text/html": model._repr_html_()}
        assert "sk-estimator" not in bundle["text/html"]


def test_fitted_network_shows_size_training_and_balance(fnn, portfolio):
    text = repr(fnn)
    history = fnn.history_
    assert text.startswith("FNN(poisson; fitted)") and len(text.splitlines()) <= MAX_LINES
    assert f"parameters: {fnn.n_params_:,} trainable" in text
    levels = portfolio["VehBrand"].nunique()
    assert f"VehBrand ({levels} levels, dim 2)" in text
    assert f"{history.epochs} of at most {fnn.epochs} epochs run" in text
    assert f"best epoch {history.best_epoch}" in text
    assert "balance: not corrected" in text
    html = fnn._repr_html_()
    assert "<table" in html and "weighted mean unit deviance" in html


def test_localglmnet_and_cann_fitted_without_epochs_show_their_start(glm, portfolio):
    local = LocalGLMnet(sw2019_network_inputs(), epochs=0, verbose=0)
    local.fit(portfolio, "ClaimNb", exposure="Exposure")
    text = repr(local)
    assert f"VehBrand ({portfolio['VehBrand'].nunique() - 1} dummies)" in text
    assert "training: 0 epochs run, best epoch -, not stopped early" in text
    cann = CANN(glm, sw2019_network_inputs(), epochs=0, verbose=0)
    cann.fit(portfolio, "ClaimNb", exposure="Exposure").balance_correct(portfolio)
    assert "its linear predictor as a fixed offset" in repr(cann)
    assert "balance: corrected" in repr(cann)


def test_nagging_summary_is_a_frame_with_one_row_per_member(portfolio):
    def make(seed):
        return FNN(sw2019_network_inputs(), seed=seed, **FAST)

    ensemble = Nagging(make, [4, 7], progress=None)
    text = repr(ensemble)
    assert text.startswith("Nagging(2 members; not fitted)") and "seeds: 4, 7" in text
    assert "<table" in ensemble._repr_html_()
    ensemble.fit(portfolio, "ClaimNb", exposure="Exposure")
    summary = ensemble.summary()
    assert isinstance(summary, pd.DataFrame) and len(summary) == ensemble.n_members
    assert summary["seed"].tolist() == [4, 7]
    for row, member in zip(summary.itertuples(), ensemble.members_, strict=True):
        h = member.history_
        assert row.epochs == h.epochs and row.best_epoch == h.best_epoch
        assert row.loss == h.loss[h.best_epoch - 1] and row.val_loss == h.val_loss[h.best_epoch - 1]
        assert row.balance_corrected and not row.resumed
    text = repr(ensemble)
    assert text.startswith("Nagging(2 FNN members; fitted)") and len(text.splitlines()) <= 12
    mean_loss = summary["loss"].mean()
    assert not math.isnan(mean_loss) and f"mean loss {number(mean_loss)}," in text
    html = ensemble._repr_html_()
    assert html.count("<table") == 2  # the box and the members' summary
