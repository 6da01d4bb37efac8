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
import math
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.metadata_routing import UNUSED

from ._base import _case_weights
from ._display import LOSS_UNITS, frame_html, html_block, number, plural, text_block
from ._sklearn import NotFittedError, _Estimator
from ._validation import _warn
from .networks import _NetworkModel
from .training import History

__all__ = ["Nagging"]


class Nagging(_Estimator):
    """An ensemble of networks trained with different seeds, averaged on the mean scale.

    A scikit-learn estimator as its members (``score`` is D² by their family's deviance).

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

    # members already trained are an option of this call, not metadata that a router passes
    __metadata_request__fit = {"trained": UNUSED}  # noqa: RUF012

    def __init__(
        self,
        make_member: Callable[[int], _NetworkModel],
        seeds: Sequence[int],
        *,
        balance_correct: bool = True,
        checkpoint_dir: str | Path | None = None,
        progress: Callable[[str], None] | None = print,
    ):
        self.make_member = make_member
        self.seeds = seeds
        self.balance_correct = balance_correct
        self.checkpoint_dir = checkpoint_dir
        self.progress = progress

    def _check_seeds(self) -> list[int]:
        """The seeds as integers, or a ValueError unless they are distinct and not empty."""
        if len(self.seeds) == 0 or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct and not empty, got {list(self.seeds)}")
        return [int(s) for s in self.seeds]

    def _fitted_model(self) -> _NetworkModel:
        self._check_fitted()
        return self.members_[0]

    def _paths(self, seed: int) -> tuple[Path, Path]:
        assert self.checkpoint_dir is not None
        stem = Path(self.checkpoint_dir) / f"member_seed{seed}"
        return stem.with_suffix(".weights.h5"), stem.with_suffix(".json")

    def fit(
        self,
        X: pd.DataFrame,
        y: Any,
        *,
        exposure: Any = None,
        offset: Any = None,
        sample_weight: Any = None,
        weights: Any = None,
        trained: dict[int, _NetworkModel] | None = None,
        validation_data: Any = None,
        callbacks: Sequence[Any] = (),
        optimizer: Any = None,
    ):
        """Train (or load) every member on ``X``; returns self.

        ``y``, ``exposure``, ``offset``, ``sample_weight`` (or ``weights``) as in the members'
        ``fit`` (e.g. :meth:`actnn.networks.FNN.fit`), which receive them. ``trained`` maps
        seeds to members already fitted on the same data (and balance-corrected if the
        ensemble corrects): they are used as they are. ``validation_data``, ``callbacks`` and
        ``optimizer`` go to each trained member's ``fit``: the same callback objects see each
        member's training in turn (a ``ModelCheckpoint`` or ``CSVLogger`` file is rewritten by
        each), and each member trains with its own copy of the optimizer.

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
        seeds = self._check_seeds()
        _case_weights(X, sample_weight, weights)  # both names given: an error before training
        data, response = X, y
        weights = weights if sample_weight is None else sample_weight
        fit_args = {"exposure": exposure, "offset": offset, "weights": weights}
        trained = trained or {}
        members: list[_NetworkModel] = []
        resumed: list[int] = []
        if self.checkpoint_dir is not None:
            Path(self.checkpoint_dir).mkdir(parents=True, exist_ok=True)
        for k, seed in enumerate(seeds, start=1):
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
                    member.fit(
                        data,
                        response,
                        **fit_args,
                        validation_data=validation_data,
                        callbacks=callbacks,
                        optimizer=optimizer,
                    )
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
            raise NotFittedError("this Nagging ensemble is not fitted yet: call fit first")

    def member_predictions(
        self, data: pd.DataFrame, *, exposure: Any = None, offset: Any = None, unseen: str = "error"
    ) -> np.ndarray:
        """Predictions ``mu`` of every member, shape ``(M, n)``; options as in predict."""
        return self._of_members(
            lambda m: m.predict(data, exposure=exposure, offset=offset, unseen=unseen)
        )

    def predict(
        self, data: pd.DataFrame, *, exposure: Any = None, offset: Any = None, unseen: str = "error"
    ) -> np.ndarray:
        """The nagging predictor: the members' mean ``mu``.

        ``exposure``, ``offset`` and ``unseen`` as in the members' ``predict`` (e.g.
        :meth:`actnn.networks.FNN.predict`); a warning of the members is given once.
        """
        return self.member_predictions(data, exposure=exposure, offset=offset, unseen=unseen).mean(
            axis=0
        )

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

    def summary(self) -> pd.DataFrame:
        """One row per member, in seed order: how its training went.

        Columns: ``seed``, ``epochs`` (run), ``best_epoch`` (whose weights are kept),
        ``stopped_early``, ``loss`` and ``val_loss`` (at the best epoch, in the
        :class:`~actnn.training.History`'s units: the weighted mean unit deviance; NaN without
        a best epoch or validation rows), ``balance_corrected``, ``fit_seconds``, ``resumed``
        (loaded from ``checkpoint_dir``).
        """
        self._check_fitted()
        rows = []
        for m in self.members_:
            h, k = m.history_, (m.history_.best_epoch or 0) - 1
            rows.append(
                {
                    "seed": m.seed,
                    "epochs": h.epochs,
                    "best_epoch": h.best_epoch,
                    "stopped_early": h.stopped_early,
                    "loss": h.loss[k] if k >= 0 else math.nan,
                    "val_loss": h.val_loss[k] if k >= 0 and h.val_loss else math.nan,
                    "balance_corrected": m.balance_corrected_,
                    "fit_seconds": m.fit_seconds_,
                    "resumed": m.seed in self.resumed_,
                }
            )
        frame = pd.DataFrame(rows)
        frame.attrs["units"] = {"loss": LOSS_UNITS, "val_loss": LOSS_UNITS}
        return frame

    # -- display
    def _display_rows(self) -> list[tuple[str, str]]:
        """The members' architecture and, once fitted, how their training went."""
        seeds = ", ".join(map(str, self.seeds))
        correct = "each member" if self.balance_correct else "none"
        rows = [("seeds", seeds), ("balance correction", correct)]
        if not hasattr(self, "members_"):
            return [*rows, ("state", "not fitted: make_member(seed) builds each member")]
        first = self.members_[0]
        member = [
            (label, f"{value} per member" if label == "parameters" else value)
            for label, value in first._architecture_rows()
        ]
        table = self.summary()
        stopped = int(table["stopped_early"].sum())
        training = (
            f"epochs run {_span(table['epochs'])}, best epoch {_span(table['best_epoch'])}, "
            f"{stopped} of {len(table)} stopped early"
        )
        losses = (
            f"mean loss {number(table['loss'].mean())}, val_loss "
            f"{number(table['val_loss'].mean())} ({LOSS_UNITS}); per member: .summary()"
        )
        return [*rows, *member, ("training", training), ("best epochs", losses)]

    def _title(self) -> str:
        if not hasattr(self, "members_"):
            return f"Nagging({plural(self.n_members, 'member')}; not fitted)"
        kind = type(self.members_[0]).__name__
        return f"Nagging({plural(self.n_members, kind + ' member')}; fitted)"

    def __repr__(self) -> str:
        return text_block(self._title(), self._display_rows())

    def _repr_html_(self) -> str:
        extra = frame_html(self.summary()) if hasattr(self, "members_") else ""
        return html_block(self._title(), self._display_rows(), extra)


def _span(values: pd.Series) -> str:
    """``"12"`` or ``"12-40"``: the range of whole numbers (``"-"`` if all are missing)."""
    values = values.dropna()
    if values.empty:
        return "-"
    low, high = int(values.min()), int(values.max())
    return str(low) if low == high else f"{low}-{high}"
