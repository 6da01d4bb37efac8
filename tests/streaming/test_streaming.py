"""Streaming: inputs fitted over shards, training and prediction from Parquet and CSV shards."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from actnn import DataWarning
from actnn.datasets import schema
from actnn.datasets.presets import sw2019_network_inputs
from actnn.features import Categorical
from actnn.metrics import poisson_deviance
from actnn.networks import CANN, FNN, LocalGLMnet
from actnn.streaming import (
    fit_inputs_streaming,
    iter_predictions,
    list_shards,
    read_shard,
    sample_shards,
    streaming_dataset,
    train_streaming,
    write_predictions,
)

REPO = Path(__file__).resolve().parents[2]
# uneven shards, so that chunks, shuffle windows and batches cross shard boundaries
CUTS = (0, 6_000, 13_000, 21_500, 30_000)
CSV_DTYPE = {column: schema.categorical_dtype(column) for column in schema.CATEGORICAL_LEVELS}
FAST = {"epochs": 2, "batch_size": 2_000, "validation_fraction": 0.0, "verbose": 0}
# without XLA's compilation, which costs more than these small trainings (one test keeps it)
EAGER = {**FAST, "jit_compile": False}


def _parts(frame: pd.DataFrame) -> list[pd.DataFrame]:
    return [frame.iloc[a:b] for a, b in zip(CUTS, CUTS[1:], strict=False)]


@pytest.fixture(scope="module")
def parquet_shards(portfolio, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("parquet")
    for i, part in enumerate(_parts(portfolio)):
        part.to_parquet(folder / f"part-{i}.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def csv_shards(portfolio, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("csv")
    for i, part in enumerate(_parts(portfolio)):
        part.to_csv(folder / f"part-{i}.csv{'.gz' if i % 2 else ''}", index=False)
    return folder


@pytest.fixture(scope="module")
def summary(parquet_shards):
    return fit_inputs_streaming(
        sw2019_network_inputs(), parquet_shards, response="ClaimNb", exposure="Exposure"
    )


def test_list_shards_reads_folders_globs_and_lists(parquet_shards, csv_shards, tmp_path):
    in_folder = list_shards(parquet_shards)
    assert [p.name for p in in_folder] == [f"part-{i}.parquet" for i in range(4)]
    assert list_shards(str(csv_shards / "part-*.csv*")) == sorted(csv_shards.iterdir())
    assert list_shards([in_folder[2], in_folder[0]]) == [in_folder[2], in_folder[0]]
    with pytest.raises(ValueError, match="holds no shards"):
        list_shards(tmp_path)
    (tmp_path / "notes.txt").write_text("no data")
    with pytest.raises(ValueError, match="notes.txt"):
        list_shards(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="more than once"):
        list_shards([parquet_shards, in_folder[0]])


def test_streamed_inputs_equal_the_inputs_fitted_in_memory(portfolio, parquet_shards):
    inputs = sw2019_network_inputs()
    summary = fit_inputs_streaming(
        inputs, parquet_shards, response="ClaimNb", exposure="Exposure", chunk_rows=2_500
    )
    assert summary.inputs == inputs.fit(portfolio)
    assert summary.rows == tuple(np.diff(CUTS))
    assert summary.n_rows == len(portfolio)
    assert summary.sum_response == pytest.approx(portfolio["ClaimNb"].sum(), rel=1e-12)
    assert summary.sum_exposure == pytest.approx(portfolio["Exposure"].sum(), rel=1e-12)
    assert summary.sum_weights == len(portfolio)


def test_streamed_csv_inputs_equal_the_inputs_of_the_same_csv_in_memory(portfolio, csv_shards):
    inputs = sw2019_network_inputs()
    as_read = pd.concat([pd.read_csv(p) for p in list_shards(csv_shards)], ignore_index=True)
    plain = fit_inputs_streaming(inputs, csv_shards, chunk_rows=2_500)
    # strings: sorted levels (B1, B10, B11, ...), as Categorical.fit sorts them in memory
    assert plain.inputs == inputs.fit(as_read)
    typed = fit_inputs_streaming(inputs, csv_shards, chunk_rows=2_500, csv_dtype=CSV_DTYPE)
    assert typed.inputs == inputs.fit(portfolio)
    assert typed.inputs != plain.inputs


def test_streamed_standard_scaling_agrees_with_the_in_memory_one(portfolio, parquet_shards):
    inputs = dataclasses.replace(sw2019_network_inputs(), scaling="standard")
    streamed = fit_inputs_streaming(inputs, parquet_shards, chunk_rows=999).inputs
    in_memory = inputs.fit(portfolio)
    assert streamed.categorical == in_memory.categorical
    np.testing.assert_allclose(streamed.centers, in_memory.centers, rtol=1e-12)
    np.testing.assert_allclose(streamed.scales, in_memory.scales, rtol=1e-12)


def test_a_reference_level_missing_from_a_shard_is_fine(portfolio, tmp_path):
    brand = portfolio["VehBrand"]
    portfolio[brand != "B14"].to_parquet(tmp_path / "a.parquet", index=False)
    portfolio[brand == "B14"].to_parquet(tmp_path / "b.parquet", index=False)
    inputs = dataclasses.replace(
        sw2019_network_inputs(), categorical=(Categorical("VehBrand", reference="B14"),)
    )
    both = pd.concat([pd.read_parquet(p) for p in list_shards(tmp_path)], ignore_index=True)
    assert fit_inputs_streaming(inputs, tmp_path).inputs == inputs.fit(both)
    with pytest.raises(ValueError, match="reference 'B14' is not a level"):
        fit_inputs_streaming(inputs, tmp_path / "a.parquet")


def test_a_shard_without_a_needed_column_is_named_with_the_column(portfolio, tmp_path):
    portfolio.iloc[:100].to_parquet(tmp_path / "good.parquet", index=False)
    portfolio.iloc[100:200].drop(columns="Region").to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match=r"shard .*bad\.csv lacks the columns \['Region'\]"):
        fit_inputs_streaming(sw2019_network_inputs(), tmp_path)


def test_bad_values_are_reported_with_their_shard_and_rows(portfolio, tmp_path):
    bad = portfolio.iloc[:100].copy()
    bad.loc[bad.index[87], "Exposure"] = 0.0
    bad.to_parquet(tmp_path / "bad.parquet", index=False)
    with pytest.raises(ValueError, match=r"^shard .*bad\.parquet: exposure.*row 87\b"):
        fit_inputs_streaming(sw2019_network_inputs(), tmp_path, exposure="Exposure")
    # in the third chunk of 40 rows, row 87 of the shard is its row 7
    with pytest.raises(ValueError, match=r"bad\.parquet, rows from 80 on .*: exposure.*row 7\b"):
        fit_inputs_streaming(sw2019_network_inputs(), tmp_path, exposure="Exposure",
                             chunk_rows=40)  # fmt: skip


def test_read_shard_returns_the_columns_in_chunks(portfolio, parquet_shards, csv_shards):
    for folder, dtype in ((parquet_shards, None), (csv_shards, CSV_DTYPE)):
        path = list_shards(folder)[1]
        chunks = list(read_shard(path, ["Region", "ClaimNb"], chunk_rows=3_000, csv_dtype=dtype))
        assert [len(c) for c in chunks] == [3_000, 3_000, 1_000]
        expected = portfolio.iloc[CUTS[1] : CUTS[2]][["Region", "ClaimNb"]]
        pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True),
                                      expected.reset_index(drop=True))  # fmt: skip


def test_sample_shards_draws_distinct_rows_uniformly(portfolio, parquet_shards):
    sample = sample_shards(parquet_shards, 5_000, seed=1, columns=["IDpol", "Exposure"],
                           chunk_rows=1_000)  # fmt: skip
    assert len(sample) == 5_000 and sample["IDpol"].is_unique
    assert sample["IDpol"].is_monotonic_increasing  # in shard order
    assert set(sample["IDpol"]) <= set(portfolio["IDpol"])
    # each of the four shards holds its share of the rows (binomial sd about 35 rows)
    counts = np.histogram(sample["IDpol"], bins=np.array(CUTS) + 0.5)[0]
    expected = 5_000 * np.diff(CUTS) / len(portfolio)
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))
    again = sample_shards(parquet_shards, 5_000, seed=1, columns=["IDpol", "Exposure"])
    pd.testing.assert_frame_equal(sample, again)  # chunking does not change the draw
    everything = sample_shards(parquet_shards, 10**6, seed=2)
    pd.testing.assert_frame_equal(everything, portfolio.reset_index(drop=True), check_like=True)


def test_the_network_starts_as_in_fit(portfolio, summary, glm):
    options = {"epochs": 0, "seed": 5, "verbose": 0}
    for make in (lambda: FNN(sw2019_network_inputs(), **options),
                 lambda: CANN(glm, sw2019_network_inputs(), **options)):  # fmt: skip
        fitted = make().fit(portfolio, "ClaimNb", exposure="Exposure")
        built = make().build_from_statistics(
            summary.inputs, "ClaimNb", exposure="Exposure", mean_response=summary.mean_response
        )
        for a, b in zip(fitted.keras_model_.get_weights(), built.keras_model_.get_weights(),
                        strict=True):  # fmt: skip
            np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("kind", ["fnn", "cann"])
def test_full_batch_streamed_training_is_the_in_memory_training(portfolio, summary, glm, kind):
    # one batch of all rows: the shuffling of the two trainers does not matter, the steps do
    options = {**EAGER, "batch_size": len(portfolio), "epochs": 3}
    inputs = sw2019_network_inputs()
    make = (
        (lambda: FNN(inputs, **options))
        if kind == "fnn"
        else (lambda: CANN(glm, inputs, **options))
    )
    in_memory = make().fit(portfolio, "ClaimNb", exposure="Exposure")
    streamed = make()
    history = train_streaming(streamed, summary, progress=None)
    np.testing.assert_allclose(history.loss, in_memory.history_.loss, rtol=1e-6)
    np.testing.assert_allclose(streamed.predict(portfolio), in_memory.predict(portfolio),
                               rtol=1e-5)  # fmt: skip


def test_streamed_cann_learns_as_the_in_memory_one(portfolio, summary, glm):
    in_memory = CANN(glm, sw2019_network_inputs(), **FAST).fit(
        portfolio, "ClaimNb", exposure="Exposure"
    )
    streamed = CANN(glm, sw2019_network_inputs(), **FAST)
    lines: list[str] = []
    history = train_streaming(streamed, summary, shuffle_buffer=5_000, progress=lines.append)
    assert history.epochs == 2 and history.loss[1] < history.loss[0]
    assert lines[0].startswith("epoch 1/2: loss") and "rows/s" in lines[0]
    assert streamed.history_ is history and not streamed.balance_corrected_

    def score(model):
        return poisson_deviance(portfolio["ClaimNb"], model.predict(portfolio))

    start = score(glm)
    # both improve on the GLM they start at, by amounts of the same size
    assert score(streamed) < start and score(in_memory) < start
    assert start - score(streamed) == pytest.approx(start - score(in_memory), rel=0.5)
    ratio = streamed.predict(portfolio) / in_memory.predict(portfolio)
    assert np.quantile(np.abs(np.log(ratio)), 0.9) < 0.05


def test_the_cache_does_not_change_the_training(summary):
    histories = []
    for cache in (True, False):
        model = FNN(sw2019_network_inputs(), **EAGER)
        histories.append(train_streaming(model, summary, shuffle_buffer=5_000, cache=cache,
                                         progress=None))  # fmt: skip
    np.testing.assert_allclose(histories[0].loss, histories[1].loss, rtol=1e-12)


def test_an_interrupt_keeps_the_finished_epochs(parquet_shards):
    shards = list_shards(parquet_shards)[:2]
    summary = fit_inputs_streaming(sw2019_network_inputs(), shards, response="ClaimNb",
                                   exposure="Exposure")  # fmt: skip

    def interrupt_in_epoch_2(line: str) -> None:
        if line.startswith("epoch 1/"):  # the line that ends epoch 1
            raise KeyboardInterrupt

    model = FNN(sw2019_network_inputs(), **{**EAGER, "epochs": 3})
    with pytest.warns(UserWarning, match="interrupted in epoch 2 of 3.*epoch 1"):
        history = train_streaming(model, summary, progress=interrupt_in_epoch_2)
    assert history.interrupted and history.epochs == 1 and history.best_epoch == 1


def test_csv_shards_train_and_validation_shards_stop_early(csv_shards, parquet_shards):
    learning = list_shards(csv_shards)
    summary = fit_inputs_streaming(sw2019_network_inputs(), learning[:3], response="ClaimNb",
                                   exposure="Exposure", csv_dtype=CSV_DTYPE)  # fmt: skip
    model = FNN(sw2019_network_inputs(), **{**EAGER, "epochs": 4}, patience=1, learning_rate=0.5)
    history = train_streaming(model, summary, validation=learning[3:], csv_dtype=CSV_DTYPE,
                              progress=None)  # fmt: skip
    assert len(history.val_loss) == history.epochs
    assert history.best_epoch == int(np.argmin(history.val_loss)) + 1
    assert history.stopped_early == (history.epochs < 4)


def test_streamed_predictions_are_the_in_memory_predictions(portfolio, parquet_shards, csv_shards,
                                                           glm, tmp_path):  # fmt: skip
    model = CANN(glm, sw2019_network_inputs(), **EAGER).fit(portfolio, "ClaimNb",
                                                           exposure="Exposure")  # fmt: skip
    expected = model.predict(portfolio)
    for shards, dtype in ((parquet_shards, None), (csv_shards, CSV_DTYPE)):
        parts = list(iter_predictions(model, shards, keep=["IDpol"], chunk_rows=4_000,
                                      csv_dtype=dtype))  # fmt: skip
        streamed = pd.concat([frame for _, frame in parts], ignore_index=True)
        np.testing.assert_array_equal(streamed["IDpol"], portfolio["IDpol"])
        # the network part computes in float32, whose matrix products may round differently for
        # 4,000 rows than for 30,000 (oneDNN's blocking, TensorFlow 2.21): 1e-10 relative seen
        np.testing.assert_allclose(streamed["mu"], expected, rtol=1e-8)
    written = write_predictions(model, parquet_shards, tmp_path, keep=["IDpol"], chunk_rows=4_000)
    assert [p.name for p in written] == [f"part-{i}.parquet" for i in range(4)]
    back = pd.concat([pd.read_parquet(p) for p in written], ignore_index=True)
    np.testing.assert_allclose(back["mu"], expected, rtol=1e-8)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_predictions(model, parquet_shards, tmp_path)
    glm_streamed = pd.concat([f for _, f in iter_predictions(glm, parquet_shards)])
    np.testing.assert_allclose(glm_streamed["mu"], glm.predict(portfolio), rtol=1e-12)


def test_the_dataset_yields_the_model_inputs_in_batches(summary, parquet_shards):
    model = FNN(sw2019_network_inputs(), **FAST).build_from_statistics(
        summary.inputs, "ClaimNb", exposure="Exposure", mean_response=summary.mean_response
    )
    batches = list(streaming_dataset(model, parquet_shards, batch_size=7_000))
    assert [len(y) for _, y, _ in batches] == [7_000] * 5
    inputs, y, w = batches[0]
    assert set(inputs) == {"numeric", "VehBrand", "Region", "offset"}
    assert inputs["numeric"].dtype == "float32" and inputs["Region"].dtype == "int32"
    assert y.dtype == "float64" and y.shape == (7_000, 1) and np.all(w.numpy() == 1.0)
    # the last batch is filled up with rows of weight 0
    np.testing.assert_array_equal(batches[-1][2][:, 0], np.repeat([1.0, 0.0], [2_000, 5_000]))
    assert float(batches[-1][1][2_000:].numpy().sum()) == 0.0

    def rows(**options):
        """Response and offset of the data's rows, in the order of the dataset."""
        out = [
            np.column_stack([y, inputs["offset"]])[w.numpy()[:, 0] > 0]
            for inputs, y, w in streaming_dataset(model, parquet_shards, batch_size=2_000,
                                                  shuffle_buffer=5_000, **options)
        ]  # fmt: skip
        return np.concatenate(out)

    first, again, other = (rows(shuffle=True, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first[:, 0].sum() == pytest.approx(summary.sum_response)
    grouped = rows(shuffle=True, seed=1, batches_per_element=2)
    np.testing.assert_array_equal(grouped, first)  # the same batches, two at a time


def test_streaming_refuses_a_localglmnet_and_mismatched_inputs(summary):
    with pytest.raises(TypeError, match="FNN or CANN"):
        train_streaming(LocalGLMnet(sw2019_network_inputs()), summary)
    other = dataclasses.replace(sw2019_network_inputs(), scaling="standard")
    with pytest.raises(ValueError, match="other features"):
        train_streaming(FNN(other), summary)


MIRRORED = """
import json, sys
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from actnn.networks import FNN
from actnn.datasets.presets import sw2019_network_inputs
from actnn.streaming import fit_inputs_streaming, train_streaming

summary = fit_inputs_streaming(
    sw2019_network_inputs(), sys.argv[1], response="ClaimNb", exposure="Exposure"
)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
results = {"replicas": strategy.num_replicas_in_sync}
for name, kwargs in (("mirrored", {"strategy": strategy}), ("single", {})):
    model = FNN(sw2019_network_inputs(), epochs=3, batch_size=2_000, verbose=0, jit_compile=False)
    history = train_streaming(model, summary, shuffle_buffer=5_000, progress=None, **kwargs)
    results[name] = {"loss": history.loss, "weights": [w.tolist() for w in
                                                       model.keras_model_.get_weights()]}
print(json.dumps(results))
"""


def test_mirrored_strategy_on_two_cpus_trains_as_one_device(parquet_shards):
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(MIRRORED), str(parquet_shards)],
        capture_output=True, text=True, cwd=REPO, timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["replicas"] == 2
    mirrored, single = results["mirrored"], results["single"]
    assert mirrored["loss"][-1] < mirrored["loss"][0]
    np.testing.assert_allclose(mirrored["loss"], single["loss"], rtol=1e-6)
    for a, b in zip(mirrored["weights"], single["weights"], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


def test_streaming_warns_as_an_in_memory_fit_once_per_pass(portfolio, tmp_path):
    # exposure above 1 and non-integer claim counts in two shards (and in two chunks of each):
    # one DataWarning each, worded as the in-memory fit's, the rows named by shard
    frame = portfolio.iloc[:400].reset_index(drop=True).astype({"ClaimNb": float})
    frame.loc[[5, 250, 390], "Exposure"] = 1.5
    frame.loc[[7, 300], "ClaimNb"] = 0.5
    for i, (a, b) in enumerate(((0, 200), (200, 400))):
        frame.iloc[a:b].to_parquet(tmp_path / f"part-{i}.parquet", index=False)
    with pytest.warns(DataWarning) as caught:
        in_memory = FNN(sw2019_network_inputs(), **EAGER).fit(frame, "ClaimNb", exposure="Exposure")
    expected = sorted(str(w.message).split(" (first: ")[0] for w in caught)
    notes = sorted(str(w.message).split("); ", 1)[1] for w in caught)
    with pytest.warns(DataWarning) as streamed:
        summary = fit_inputs_streaming(sw2019_network_inputs(), tmp_path, response="ClaimNb",
                                       exposure="Exposure", chunk_rows=100)  # fmt: skip
        train_streaming(FNN(sw2019_network_inputs(), **EAGER), summary, progress=None)
    messages = sorted(str(w.message) for w in streamed if issubclass(w.category, DataWarning))
    assert len(messages) == 2 and len(expected) == 2 and in_memory.history_.epochs == 2
    assert sorted(m.split(" (first: ")[0] for m in messages) == expected
    assert sorted(m.split("); ", 1)[1] for m in messages) == notes
    exposure = next(m for m in messages if m.startswith("exposure"))
    assert "(first: part-0.parquet row 5 = 1.5, part-1.parquet row 50 = 1.5, " in exposure
    assert "part-1.parquet row 190 = 1.5)" in exposure
