"""The Python examples of the README and of the docs pages it links run as printed."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import REPO


def _python_blocks() -> list[str]:
    """The README's Python blocks after the freMTPL2 quickstart (which needs the data)."""
    return _all_python_blocks()[1:]


def _all_python_blocks(page: str = "README.md") -> list[str]:
    text = (REPO / page).read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.real_data
def test_fremtpl2_quickstart_runs(real_data_dir, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ACTNN_DATA_DIR", str(real_data_dir))
    block = _all_python_blocks()[0]
    assert "load_freq()" in block
    namespace: dict = {}
    exec(compile(block, "README freMTPL2 quickstart", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "32.17123" in printed  # the published GLM1 test loss, printed by the block
    comparison = namespace["comparison"]
    glm1, cann = comparison.scores["deviance"]
    assert cann < glm1  # the CANN improves on the GLM it starts from
    assert abs(cann - 31.6) < 0.1  # what the comment in the block says
    assert (tmp_path / "glm1_vs_cann.html").stat().st_size > 100_000


def test_quickstart_runs(capsys):
    quickstart = _python_blocks()[0]
    namespace: dict = {}
    exec(compile(quickstart, "README quickstart", "exec"), namespace)
    assert namespace["glm"].n_params_ == 49
    assert "linear_predictor" in capsys.readouterr().out


def test_own_portfolio_example_runs(own_portfolio):
    rng = np.random.default_rng(0)
    frame = own_portfolio
    claims = frame[frame["n_claims"] > 0].assign(mean_claim=lambda d: rng.gamma(2.0, 900.0, len(d)))
    namespace = {"my_learn_frame": frame, "my_claims_frame": claims}
    exec(compile(_python_blocks()[1], "README own portfolio", "exec"), namespace)
    assert namespace["glm"].coef_.index[0] == "(Intercept)"
    assert namespace["severity"].dispersion_ > 0


def test_scikit_learn_example_runs(capsys):
    import sklearn

    block = next(b for b in _python_blocks() if "GridSearchCV" in b)
    namespace: dict = {}
    with sklearn.config_context():  # the block enables metadata routing: only for this test
        exec(compile(block, "README scikit-learn", "exec"), namespace)
    search = namespace["search"]
    assert len(search.cv_results_["mean_test_score"]) == 3
    assert search.best_estimator_.uses_exposure_  # exposure was routed to fit
    assert str(round(search.best_score_, 4)) in capsys.readouterr().out


def test_network_example_runs(capsys):
    namespace: dict = {}
    block = _all_python_blocks("docs/models.md")[0]
    assert "Nagging" in block
    exec(compile(block, "docs/models.md networks", "exec"), namespace)
    cann, glm, learn = namespace["cann"], namespace["glm"], namespace["learn"]
    assert cann.predict(learn).sum() == pytest.approx(learn["ClaimNb"].sum(), rel=1e-10)
    assert glm.n_params_ == 48
    assert "members" in capsys.readouterr().out


def test_evaluation_example_runs(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    block = _all_python_blocks("docs/evaluation.md")[0]
    assert "evaluate(" in block
    exec(compile(block, "docs/evaluation.md", "exec"), namespace)
    comparison = namespace["comparison"]
    assert list(comparison.scores.index) == ["GLM1", "CANN"]
    assert (tmp_path / "comparison.html").stat().st_size > 50_000
    assert (tmp_path / "models" / "GLM1" / "actnn_model.json").is_file()
    assert "miscalibration" in capsys.readouterr().out
