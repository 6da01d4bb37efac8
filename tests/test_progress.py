"""Progress that fits the place (a notebook, a terminal, a log) and TensorFlow's start-up lines."""

from __future__ import annotations

import io
import math
import os
import re
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from actnn import _quiet
from actnn._utils import LiveLine
from actnn.families import Poisson
from actnn.training import train

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: The last line of a fit, e.g. "FNN: 3/3 epochs; kept epoch 3, val loss 0.3124; 1.20 s"
SUMMARY = (
    r"FNN: (\d+)/(\d+) epochs(, stopped early \([^)]*\))?; kept epoch (\d+), val loss [\d.e-]+; "
)

FIT = """\
import actnn
from actnn.datasets.presets import sw2019_network_inputs

data = actnn.simulate_mtpl(1_000, seed=1)
model = actnn.FNN(sw2019_network_inputs(), hidden=(3,), epochs={epochs}, batch_size=256,
                  jit_compile=False, verbose={verbose})
model = model.fit(data, "ClaimNb", exposure="Exposure")
"""


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_terminal_line_is_rewritten_in_place_and_ends_once():
    stream = _Terminal()
    line = LiveLine(stream=stream)
    line("epoch 1/3, a longer line")
    line._last = 0.0  # updates are at most ten a second: let the next one through
    line("epoch 2/3")
    line.close("done")
    text = stream.getvalue()
    assert text.count("\n") == 1 and text.endswith(
        "done".ljust(len("epoch 1/3, a longer line")) + "\n"
    )
    shown = text.split("\r")[1:]
    assert [s.rstrip() for s in shown] == ["epoch 1/3, a longer line", "epoch 2/3", "done"]
    assert len(shown[1]) == len(shown[0])  # the shorter line covers the longer one
    assert "\b" not in text


def test_a_training_on_a_terminal_rewrites_its_line_and_ends_with_the_summary(capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(LiveLine, "__call__", _every_update(LiveLine.__call__))
    history = _train_bias(epochs=3, patience=None)
    out = capsys.readouterr().out
    shown = [line.rstrip() for line in out.split("\r")[1:]]
    assert [line.split(" ━")[0].split(" ─")[0] for line in shown[:3]] == [
        f"bias: epoch {k}/3" for k in (1, 2, 3)
    ]
    assert shown[3].startswith(
        f"bias: 3/3 epochs; kept epoch 3, val loss {history.val_loss[2]:.6g}"
    )
    assert out.endswith("\n") and out.count("\n") == 1 and "\b" not in out


def _every_update(call):
    """LiveLine.__call__ without its limit of ten updates a second."""

    def every(self, text):
        self._last = -math.inf
        call(self, text)

    return every


def _train_bias(**options):
    """Train ``eta = b`` from b = 1 on four responses of 1 (gradient descent), titled "bias"."""
    x = keras.Input((1,), name="x", dtype="float64")
    model = keras.Model(
        {"x": x}, keras.layers.Dense(1, bias_initializer="ones", dtype="float64")(x)
    )
    inputs, y = {"x": np.zeros((4, 1))}, np.ones(4)
    return train(model, inputs, y, Poisson(), validation=(inputs, y, None), batch_size=4,
                 optimizer=keras.optimizers.SGD(options.pop("lr", 0.1)), verbose=1,
                 jit_compile=False, title="bias", **options)  # fmt: skip


def test_a_log_gets_plain_lines_at_most_every_interval_and_the_last(capsys):
    line = LiveLine(interval=3600.0)
    for k in range(5):
        line(f"epoch {k}")
    line.close("finished")
    assert capsys.readouterr().out == "finished\n"
    every = LiveLine(lines=True)
    for k in range(3):
        every(f"epoch {k}")
    every.close("finished")
    assert capsys.readouterr().out == "epoch 0\nepoch 1\nepoch 2\nfinished\n"


def test_a_fit_outside_a_terminal_prints_only_its_summary_line(capsys):
    namespace: dict = {}
    exec(FIT.format(epochs=3, verbose=1), namespace)
    out = capsys.readouterr().out
    history = namespace["model"].history_
    assert out.count("\n") == 1 and "\r" not in out and "\b" not in out
    match = re.fullmatch(SUMMARY + r"[\d.]+ s\n", out)
    assert match and int(match[1]) == history.epochs == 3 and int(match[4]) == history.best_epoch
    exec(FIT.format(epochs=2, verbose=2), namespace)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" ━")[0].split(" ─")[0] for line in lines[:2]] == [
        "FNN: epoch 1/2",
        "FNN: epoch 2/2",
    ]
    assert re.match(SUMMARY, lines[2]) and len(lines) == 3


def test_the_summary_says_that_training_stopped_early_and_which_epoch_is_kept(capsys):
    # a learning rate of 0 never improves on epoch 1: patience 2 stops after epoch 3
    history = _train_bias(lr=0.0, epochs=10, patience=2)
    assert history.epochs == 3 and history.best_epoch == 1
    out = capsys.readouterr().out
    expected = (
        "bias: 3/10 epochs, stopped early (no improvement in 2 epochs); kept epoch 1, "
        f"val loss {history.val_loss[0]:.6g}; "
    )
    assert out.startswith(expected) and out.count("\n") == 1


def test_a_fit_in_a_notebook_leaves_one_line_and_no_tensorflow_chatter(monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # the kernel starts as a user's
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")]))
    )
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(FIT.format(epochs=12, verbose=1))]
    )
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    outputs = notebook.cells[0].outputs
    texts = [
        output.get("text", "") or output.get("data", {}).get("text/plain", "") for output in outputs
    ]
    saved = "".join(texts)
    assert [output.output_type for output in outputs] == ["display_data"], saved
    assert re.fullmatch(SUMMARY + r"[\d.]+ s", saved)
    assert "\b" not in saved and "\r" not in saved


def test_start_up_chatter_is_filtered_and_other_lines_are_kept(capfd):
    with _quiet._stderr_filtered():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are "
                    b"written to STDERR\n")  # fmt: skip
        os.write(2, b"I0000 00:00:1.2 123 cudart_stub.cc:31] Could not find cuda drivers\n")
        os.write(2, b"E0000 00:00:1.2 123 cuda_platform.cc:52] failed call to cuInit: 303\n")
        os.write(2, b"E0000 00:00:1.2 123 other.cc:1] a real error\n")
        print("a Python warning", file=sys.stderr)
    err = capfd.readouterr().err  # (pytest's sys.stderr is not file descriptor 2: any order)
    kept = ["E0000 00:00:1.2 123 other.cc:1] a real error", "a Python warning"]
    assert sorted(err.splitlines()) == sorted(kept)


def _run(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=600)  # fmt: skip


def test_tensorflow_says_nothing_at_start_up_unless_the_user_asked():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO, env.get("PYTHONPATH")]))
    fitted = _run(
        FIT.format(epochs=1, verbose=0) + "import os; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])",
        env,
    )
    assert fitted.returncode == 0, fitted.stderr
    assert fitted.stdout == "2\n"
    assert fitted.stderr == ""
    asked = _run(
        """\
        import os, sys
        import actnn
        print(os.environ["TF_CPP_MIN_LOG_LEVEL"], any(type(f).__name__ == "_QuietFinder"
                                                      for f in sys.meta_path))
        """,
        {**env, "TF_CPP_MIN_LOG_LEVEL": "0"},
    )
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout == "0 False\n"
