"""The case studies' settings and display: script against Jupyter kernel, fast (no TensorFlow).

A kernel is simulated by replacing ``_kernel`` (what tells a Jupyter kernel from a script), and
IPython's ``display`` by a list; the notebooks themselves run in ``tests/test_notebooks.py``.
"""

from __future__ import annotations

import sys
import types

import pandas as pd
import pytest

from actnn.studies import _case_study, case_study, show, show_markdown

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("ACTNN_QUICK", "ACTNN_DATA_DIR", "ACTNN_OUT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def kernel(clean_env):
    """A Jupyter kernel as the helpers see it; returns what they displayed."""
    pytest.importorskip("IPython")
    import IPython.display

    shown = []
    clean_env.setattr(_case_study, "_kernel", lambda: object())
    clean_env.setattr(IPython.display, "display", shown.append)
    return shown


@pytest.fixture
def repo(tmp_path):
    """A checkout with ``case_studies/study.py``."""
    (tmp_path / "case_studies").mkdir()
    (tmp_path / "case_studies" / "study.py").write_text("")
    (tmp_path / "docs" / "notebooks").mkdir(parents=True)
    return tmp_path


def test_a_script_reads_its_command_line(clean_env, tmp_path):
    study = case_study(
        "study", argv=["--quick", "--data-dir", "/data", "--out", str(tmp_path / "o")]
    )
    assert study.quick
    assert str(study.data_dir) == "/data" and study.out == tmp_path / "o" and study.out.is_dir()
    assert study.command == "python case_studies/study.py --data-dir DIR --quick"


def test_a_script_falls_back_to_the_environment(clean_env, tmp_path):
    clean_env.setenv("ACTNN_QUICK", "1")
    clean_env.setenv("ACTNN_DATA_DIR", "/data")
    clean_env.setenv("ACTNN_OUT", str(tmp_path))
    study = case_study("study", argv=[])
    assert study.quick and str(study.data_dir) == "/data" and study.out == tmp_path / "study"
    assert not case_study("study", quick=False, argv=[]).quick  # an argument wins


def test_a_script_refuses_unknown_options(clean_env, tmp_path):
    with pytest.raises(SystemExit):
        case_study("study", out=tmp_path, argv=["--epochs", "3"])
    with pytest.raises(SystemExit):  # a case study without data has no --data-dir
        case_study("study", out=tmp_path, uses_data=False, argv=["--data-dir", "/data"])


@pytest.mark.parametrize("value", ["2", "maybe"])
def test_a_bad_quick_flag_is_named(clean_env, tmp_path, value):
    clean_env.setenv("ACTNN_QUICK", value)
    with pytest.raises(ValueError, match=f"ACTNN_QUICK must be 1 or 0.*'{value}'"):
        case_study("study", out=tmp_path, argv=[])


def test_a_kernel_ignores_its_command_line(kernel, clean_env, tmp_path):
    clean_env.setenv("ACTNN_QUICK", "true")
    study = case_study("study", out=tmp_path, argv=["-f", "/kernel-1.json"])
    assert study.quick and study.out == tmp_path


@pytest.mark.parametrize("where", ["case_studies", ".", "docs/notebooks"])
def test_results_go_beside_the_script_whatever_the_folder(kernel, clean_env, repo, where):
    clean_env.chdir(repo / where)
    assert case_study("study").out == repo / "case_studies" / "results" / "study"
    quick = case_study("study", quick=True).out
    assert quick == repo / "case_studies" / "results" / "quick" / "study"


def test_a_script_finds_its_folder_from_its_path(clean_env, repo, tmp_path_factory):
    main = types.SimpleNamespace(__file__=str(repo / "case_studies" / "study.py"))
    clean_env.setitem(sys.modules, "__main__", main)
    clean_env.chdir(tmp_path_factory.mktemp("elsewhere"))
    assert case_study("study", argv=[]).out == repo / "case_studies" / "results" / "study"


def test_outside_a_repository_results_go_to_the_working_directory(kernel, clean_env, tmp_path):
    clean_env.chdir(tmp_path)
    assert case_study("study").out == tmp_path / "study_results"


def test_a_script_prints_tables_whole_and_no_figures(clean_env, capsys):
    wide = pd.DataFrame({f"a rather long column name {i}": [1.5, 2.5] for i in range(8)})
    show(wide)
    show(PNG)
    show_markdown("# Title\n\n![figure](figure.png)")
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == wide.to_string().splitlines()[0]  # one line, no wrapping
    assert "\\" not in printed and "PNG" not in printed
    assert printed.endswith("# Title\n\n![figure](figure.png)\n")


def test_a_kernel_displays_tables_figures_and_markdown(kernel):
    from IPython.display import Image, Markdown

    table = pd.DataFrame({"x": [1]})
    show(table)
    show(PNG)
    show_markdown("# Title\n\n![figure](figure.png)\n![remote](https://example.org/a.png)")
    assert kernel[0] is table
    assert isinstance(kernel[1], Image) and kernel[1].data == PNG and kernel[1].format == "png"
    assert isinstance(kernel[2], Markdown)
    assert kernel[2].data == "# Title\n\n![remote](https://example.org/a.png)"
