"""Nagging: averages of independently trained networks (Richman & Wüthrich 2020).

A :class:`Nagging` ensemble trains ``M`` members that differ only in their seed (initial weights,
validation rows and shuffling), balance-corrects each one, and predicts the average of their means
``mu`` (on the mean scale, not the log scale). With a ``checkpoint_dir`` every finished member is
saved at once, so an interrupted run resumes without retraining them.

References
----------
Richman, R., Wüthrich, M. V. (2020). Nagging predictors. Risks 8(3), 83.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._validation import _warn
from .networks import _NetworkModel
from .training import History

__all__ = ["Nagging"]


class Nagging:
    """An ensemble of networks trained with different seeds, averaged on the mean scale.

    Parameters
    ----------
    make_member : callable
        ``make_member(seed)`` returns an unfitted network model (e.g. ``lambda s: CANN(glm,
        inputs, seed=s, verbose=0)``).
    seeds : sequence of int
        One member per seed, in this order (recorded in :attr:`seeds`).
    balance_correct : bool
        Balance-correct every member on the learning data after training.
    checkpoint_dir : str or Path, optional
        Folder where each finished member's weights and history are saved; members found there
        are loaded instead of trained (resume). After an interruption (Ctrl-C), :meth:`fit`
        raises ``KeyboardInterrupt``: the member in progress is dropped, the finished ones are
        in this folder, and calling :meth:`fit` again resumes.
    progress : callable, optional
        Called with a line of text after each member (default ``print``; None for silence).
    """

    def __init__(
        self,
        make_member: Callable[[int], _NetworkModel],
        seeds: Sequence[int],
        *,
        balance_correct: bool = True,
        checkpoint_dir: str | Path | None = None,
        progress: Callable[[str], None] | None = print,
    ):
        if len(seeds) == 0 or len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be distinct and not empty, got {list(seeds)}")
        self.make_member = make_member
        self.seeds = [int(s) for s in seeds]
        self.balance_correct = balance_correct
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.progress = progress

    def _paths(self, seed: int) -> tuple[Path, Path]:
        assert self.checkpoint_dir is not None
        stem = self.checkpoint_dir / f"member_seed{seed}"
        return stem.with_suffix(".weights.h5"), stem.with_suffix(".json")

    def fit(
        self,
        data: pd.DataFrame,
        response: Any,
        *,
        exposure: Any = None,
        weights: Any = None,
        trained: dict[int, _NetworkModel] | None = None,
    ):
        """Train (or load) every member on ``data``; returns self.

        ``trained`` maps seeds to members already fitted on the same data (and balance-corrected
        if the ensemble corrects): they are used as they are.

        Raises
        ------
        KeyboardInterrupt
            If interrupted (Ctrl-C) while a member is built, trained, corrected or saved, also when
            its training returns early because of the interrupt (``history_.interrupted``): that
            member is dropped, never checkpointed nor kept half-trained, and ``members_`` is set
            only when every member is done. The message names the finished members, which are
            checkpointed when ``checkpoint_dir`` is given, and says how to resume: call ``fit``
            again with the same ``checkpoint_dir``.
        """
        fit_args = {"exposure": exposure, "weights": weights}
        trained = trained or {}
        members: list[_NetworkModel] = []
        resumed: list[int] = []
        if self.checkpoint_dir is not None:
            self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        for k, seed in enumerate(self.seeds, start=1):
            started = time.perf_counter()
            try:
                member = trained.get(seed) or self.make_member(seed)
                if member.seed != seed:
                    raise ValueError(
                        f"make_member({seed}) returned a model with seed {member.seed}"
                    )
                if seed in trained:
                    how = "already trained"
                elif self.checkpoint_dir is not None and self._paths(seed)[0].exists():
                    self._load(member, seed, data, response, fit_args)
                    resumed.append(seed)
                    how = "loaded from checkpoint"
                else:
                    member.fit(data, response, **fit_args)
                    if member.history_.interrupted:
                        # train() caught a Ctrl-C and returned its best epoch: not a finished member
                        raise KeyboardInterrupt
                    if self.balance_correct:
                        member.balance_correct(data, response, **fit_args)
                    if self.checkpoint_dir is not None:
                        self._save(member, seed)
                    how = f"trained, {member.history_.epochs} epochs"
            except KeyboardInterrupt:
                raise KeyboardInterrupt(self._interrupted(k, seed, members)) from None
            members.append(member)
            if self.progress is not None:
                self.progress(
                    f"member {k}/{len(self.seeds)} (seed {seed}): {how}, "
                    f"{time.perf_counter() - started:.0f} s"
                )
        self.members_, self.resumed_ = members, resumed
        return self

    def _interrupted(self, k: int, seed: int, finished: list[_NetworkModel]) -> str:
        """What an interrupt during member ``k`` leaves, and how to go on."""
        where = f"Nagging.fit interrupted in member {k}/{len(self.seeds)} (seed {seed}, dropped)"
        done = [m.seed for m in finished]
        if self.checkpoint_dir is None:
            return (
                f"{where}; the finished members (seeds {done}) are not kept: pass "
                "checkpoint_dir=... to be able to resume after an interruption"
            )
        saved = [s for s in self.seeds if self._paths(s)[0].exists()]
        return (
            f"{where}; members checkpointed in {self.checkpoint_dir}: seeds {saved}. Call fit "
            "again with the same checkpoint_dir to resume without retraining them"
        )

    def _save(self, member: _NetworkModel, seed: int) -> None:
        weights_path, meta_path = self._paths(seed)
        tmp = weights_path.with_name(weights_path.name.replace(".weights.h5", ".tmp.weights.h5"))
        member.keras_model_.save_weights(tmp)
        meta = {
            "seed": seed,
            "history": member.history_.to_dict(),
            "balance_corrected": member.balance_corrected_,
            "fit_seconds": member.fit_seconds_,
        }
        meta_path.write_text(json.dumps(meta))
        tmp.replace(weights_path)  # the weights file appears last: it marks a finished member

    def _load(self, member, seed, data, response, fit_args) -> None:
        weights_path, meta_path = self._paths(seed)
        meta = json.loads(meta_path.read_text())
        epochs = member.epochs
        member.epochs = 0  # builds the network and fits the inputs, trains nothing
        member.fit(data, response, **fit_args)
        member.epochs = epochs
        member.keras_model_.load_weights(weights_path)
        member.history_ = History(**meta["history"])
        member.balance_corrected_ = meta["balance_corrected"]
        member.fit_seconds_ = meta["fit_seconds"]

    def _check_fitted(self) -> None:
        if not hasattr(self, "members_"):
            raise RuntimeError("this Nagging ensemble is not fitted yet: call fit first")

    def member_predictions(
        self, data: pd.DataFrame, *, exposure: Any = None, unseen: str = "error"
    ) -> np.ndarray:
        """Predictions ``mu`` of every member, shape ``(M, n)``; ``unseen`` as in predict."""
        return self._of_members(lambda m: m.predict(data, exposure=exposure, unseen=unseen))

    def predict(
        self, data: pd.DataFrame, *, exposure: Any = None, unseen: str = "error"
    ) -> np.ndarray:
        """The nagging predictor: the members' mean ``mu``.

        ``exposure`` and ``unseen`` as in the members' ``predict`` (e.g.
        :meth:`actnn.networks.FNN.predict`); a warning of the members is given once.
        """
        return self.member_predictions(data, exposure=exposure, unseen=unseen).mean(axis=0)

    def predict_frequency(self, data: pd.DataFrame, *, unseen: str = "error") -> np.ndarray:
        """The members' mean expected claims per unit of exposure (their mean ``mu`` otherwise)."""
        return self._of_members(lambda m: m.predict_frequency(data, unseen=unseen)).mean(axis=0)

    def _of_members(self, predict: Callable[[Any], np.ndarray]) -> np.ndarray:
        """``predict`` of every member stacked, each distinct warning of theirs given once."""
        self._check_fitted()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = np.stack([predict(member) for member in self.members_])
        for category, message in dict.fromkeys((w.category, str(w.message)) for w in caught):
            _warn(message, category)
        return out

    def loss_by_size(
        self,
        data: pd.DataFrame,
        response: Any,
        score: Callable[[np.ndarray, np.ndarray], float],
        *,
        exposure: Any = None,
    ) -> pd.DataFrame:
        """``score(y, mu)`` of the average of the first ``M`` members, for ``M = 1..len``.

        Columns: ``members``, ``loss``.
        """
        y = data[response].to_numpy(float) if isinstance(response, str) else np.asarray(response)
        preds = self.member_predictions(data, exposure=exposure)
        running = np.cumsum(preds, axis=0) / np.arange(1, len(preds) + 1)[:, None]
        return pd.DataFrame(
            {"members": np.arange(1, len(preds) + 1), "loss": [score(y, mu) for mu in running]}
        )

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Save the fitted ensemble to the directory ``path`` (read by :func:`actnn.load_model`).

        Every member is saved in ``members/<seed>/``; ``make_member`` and ``progress`` (Python
        functions) are not saved. See :func:`actnn.persistence.save_model`.
        """
        from .persistence import save_model  # persistence imports this module

        return save_model(self, path, overwrite=overwrite)

    @property
    def n_members(self) -> int:
        """Number of members, one per seed."""
        return len(self.seeds)

    def summary(self) -> list[dict[str, Any]]:
        """Seed, epochs, best epoch and fit time of every member."""
        self._check_fitted()
        return [
            {
                "seed": m.seed,
                "epochs": m.history_.epochs,
                "best_epoch": m.history_.best_epoch,
                "fit_seconds": m.fit_seconds_,
                "resumed": m.seed in self.resumed_,
            }
            for m in self.members_
        ]
