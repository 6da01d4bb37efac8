"""Portfolios larger than memory: networks trained and applied on Parquet or CSV shards.

The portfolio lives in shards (files of rows: ``.parquet``, ``.csv`` or ``.csv.gz``) and is read
chunk by chunk, only the columns a step needs; no step holds more than a chunk, a shuffle window
and a batch in memory.

1. :func:`fit_inputs_streaming` reads every shard once and fits the network inputs on the whole
   portfolio (the levels of each categorical feature, the range of each numeric one): the result
   equals ``inputs.fit(portfolio)``. It also sums the response, exposure and weights, which start
   the network at the homogeneous model.
2. A CANN's GLM is fitted in memory on a uniform sample of the rows (:func:`sample_shards`), by
   IRLS as usual. The network part is trained on all the rows and starts at zero, so the CANN
   starts at that GLM and learns whatever the sampled GLM misses.
3. :func:`streaming_dataset` is a ``tf.data`` pipeline: shards in a seeded random order, rows
   shuffled within a window, each chunk turned into the network's inputs by the model itself
   (:meth:`~actnn.networks.FNN.network_inputs`: scaled numeric features, level codes, offset
   ``log(exposure)``, plus the GLM's linear predictor for a CANN), cut into batches, prefetched.
4. :func:`train_streaming` trains an :class:`~actnn.networks.FNN` or :class:`~actnn.networks.CANN`
   on that pipeline with a compiled step, optionally under a ``tf.distribute`` strategy (several
   GPUs or machines; see ``docs/distributed.md``).
5. :func:`iter_predictions` and :func:`write_predictions` apply a fitted model chunk by chunk;
   the predictions are those of :meth:`~actnn.networks.FNN.predict` on the same rows.

Examples
--------
>>> summary = fit_inputs_streaming(
...     sw2019_network_inputs(), "portfolio/", response="ClaimNb", exposure="Exposure"
... )  # doctest: +SKIP
>>> sample = sample_shards(summary.shards, 1_000_000, seed=1)  # doctest: +SKIP
>>> glm = GLM(get_preset("nsw2018_glm1"))  # doctest: +SKIP
>>> glm = glm.fit(sample, "ClaimNb", exposure="Exposure")  # doctest: +SKIP
>>> cann = CANN(glm, sw2019_network_inputs(), epochs=5)  # doctest: +SKIP
>>> history = train_streaming(cann, summary)  # doctest: +SKIP
>>> write_predictions(cann, "test_portfolio/", "predictions/", keep=["IDpol"])  # doctest: +SKIP
"""

from .dataset import streaming_dataset
from .predict import iter_predictions, write_predictions
from .shards import CHUNK_ROWS, SHARD_SUFFIXES, list_shards, read_shard
from .summary import StreamSummary, fit_inputs_streaming, sample_shards
from .train import train_streaming

__all__ = [
    "SHARD_SUFFIXES",
    "CHUNK_ROWS",
    "list_shards",
    "read_shard",
    "StreamSummary",
    "fit_inputs_streaming",
    "sample_shards",
    "streaming_dataset",
    "train_streaming",
    "iter_predictions",
    "write_predictions",
]
