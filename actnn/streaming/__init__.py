"""Portfolios larger than memory: fit the network inputs in one pass over Parquet/CSV shards,
train an FNN or CANN from a ``tf.data`` pipeline, and predict shard by shard.

- :mod:`~actnn.streaming.shards`: listing and reading the shards;
- :mod:`~actnn.streaming.summary`: the one-pass statistics and the GLM sample;
- :mod:`~actnn.streaming.dataset`: the encoded ``tf.data`` pipeline;
- :mod:`~actnn.streaming.train`: training from the stream;
- :mod:`~actnn.streaming.predict`: predictions shard by shard.
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
