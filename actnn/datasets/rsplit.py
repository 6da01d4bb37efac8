"""R's ``set.seed(seed); sample(1:n, size)``, reproduced exactly with NumPy.

The published freMTPL2 case studies split the data in R with the default Mersenne-Twister
generator. To learn and test on exactly their rows, this module rebuilds R's generator state from
the seed, draws the same uniforms and applies R's sampling algorithm, for both sample kinds:

- ``"Rounding"``: R < 3.6 (and ``RNGversion("3.5.0")``), used by the published studies;
- ``"Rejection"``: the default of R >= 3.6.

Notes
-----
``set.seed(s)`` scrambles the seed with 50 steps of the linear congruential generator
``s <- 69069 s + 1 (mod 2^32)``, then fills the 625 words of the Mersenne-Twister state with 625
further steps; the first word is the position, reset to 624, so the first draw regenerates the
whole state. Every uniform is the tempered 32-bit output times ``2^-32``, kept inside (0, 1).
``sample(1:n, k)`` without replacement then draws, for ``i = 0, ..., k-1``, an index ``j`` uniform
on the ``n - i`` remaining values, returns the value at ``j`` and moves the last remaining value
into its place. "Rounding" takes ``j = floor((n - i) u)``; "Rejection" draws ``ceil(log2(n - i))``
random bits, built from 16 bits per uniform, until the number is below ``n - i``.

References
----------
R Core Team, ``src/main/RNG.c`` and ``src/main/random.c`` (``do_sample``, ``R_unif_index``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

SAMPLE_KINDS = ("Rounding", "Rejection")


_MT_N = 624


_I2_32M1 = 2.328306437080797e-10  # 1 / (2^32 - 1), R's fixup for draws of exactly 0 or 1


_CHUNK = 1 << 16


def _mt_state(seed: int) -> np.ndarray:
    """The 624 Mersenne-Twister words that R's ``set.seed(seed)`` leaves."""
    s = seed & 0xFFFFFFFF
    for _ in range(50):
        s = (69069 * s + 1) & 0xFFFFFFFF
    words = np.empty(_MT_N + 1, dtype=np.uint32)
    for j in range(_MT_N + 1):
        s = (69069 * s + 1) & 0xFFFFFFFF
        words[j] = s
    return words[1:]  # words[0] is the position, which R resets to 624


def _check_int(name: str, value: object) -> None:
    if not isinstance(value, int | np.integer) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")


def r_uniforms(seed: int) -> Iterator[np.ndarray]:
    """Yield chunks of the uniforms R's ``runif`` draws after ``set.seed(seed)``.

    Parameters
    ----------
    seed : int
        The argument of R's ``set.seed`` (default ``kind = "Mersenne-Twister"``).

    Returns
    -------
    iterator of numpy.ndarray
        Consecutive float64 uniforms in (0, 1), in chunks.
    """
    _check_int("seed", seed)
    return _uniform_chunks(int(seed))


def _uniform_chunks(seed: int) -> Iterator[np.ndarray]:
    bitgen = np.random.MT19937()
    bitgen.state = {
        "bit_generator": "MT19937",
        "state": {"key": _mt_state(seed), "pos": _MT_N},
    }
    while True:
        u = bitgen.random_raw(_CHUNK).astype(np.float64) * 2.3283064365386963e-10
        u[u <= 0.0] = 0.5 * _I2_32M1
        u[1.0 - u <= 0.0] = 1.0 - 0.5 * _I2_32M1
        yield u


def _uniform_stream(seed: int) -> Iterator[float]:
    for chunk in r_uniforms(seed):
        yield from chunk.tolist()


def r_sample(n: int, size: int, seed: int, sample_kind: str = "Rounding") -> np.ndarray:
    """Return what R's ``set.seed(seed); sample(1:n, size)`` returns.

    Parameters
    ----------
    n : int
        Number of values to sample from (``1:n``).
    size : int
        Number of values drawn without replacement, ``0 <= size <= n``.
    seed : int
        The argument of ``set.seed``.
    sample_kind : {"Rounding", "Rejection"}
        R's sample kind: ``"Rounding"`` for R < 3.6 and ``RNGversion("3.5.0")`` (the published
        freMTPL2 studies), ``"Rejection"`` for the default of R >= 3.6.

    Returns
    -------
    numpy.ndarray
        int64 array of ``size`` values in ``1..n`` (1-based, as R returns them), in R's order.

    Notes
    -----
    Only R's default path is reproduced: ``n <= 1e7`` (R hashes for larger ``n`` when
    ``size <= n / 2``), no replacement, no probabilities.
    """
    for name, value in (("n", n), ("size", size), ("seed", seed)):
        _check_int(name, value)
    if sample_kind not in SAMPLE_KINDS:
        raise ValueError(f"sample_kind must be one of {SAMPLE_KINDS}, got {sample_kind!r}")
    if n < 1 or n > 10**7:
        raise ValueError(f"n must be in 1..1e7 (R's non-hashing path), got {n}")
    if not 0 <= size <= n:
        raise ValueError(f"size must be in 0..n = 0..{n}, got {size}")

    values = list(range(1, n + 1))
    out = np.empty(size, dtype=np.int64)
    draws = _uniform_stream(seed)
    remaining = n
    if sample_kind == "Rounding":
        for i in range(size):
            j = int(remaining * next(draws))
            out[i] = values[j]
            remaining -= 1
            values[j] = values[remaining]
        return out
    for i in range(size):
        bits = math.ceil(math.log2(remaining)) if remaining > 1 else 0
        while True:
            v = 0
            for _ in range(0, bits + 1, 16):
                v = 65536 * v + int(next(draws) * 65536)
            j = v & ((1 << bits) - 1)
            if j < remaining:
                break
        out[i] = values[j]
        remaining -= 1
        values[j] = values[remaining]
    return out


def r_split(
    n: int, frac: float = 0.9, seed: int = 100, sample_kind: str = "Rounding"
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``n`` rows into learning and test rows exactly as the published R code does.

    R: ``set.seed(seed); ll <- sample(c(1:n), round(frac * n), replace = FALSE)``; learning set
    = rows ``ll``, test set = the rest.

    Returns
    -------
    learn, test : numpy.ndarray
        0-based row positions. ``learn`` is in R's sampled order; ``test`` is increasing, as
        ``dat[-ll, ]`` keeps the data's order.
    """
    if not 0.0 < frac < 1.0:
        raise ValueError(f"frac must be in (0, 1), got {frac}")
    size = _r_round(frac * n)
    learn = r_sample(n, size, seed, sample_kind) - 1
    mask = np.ones(n, dtype=bool)
    mask[learn] = False
    return learn, np.flatnonzero(mask)


def _r_round(x: float) -> int:
    """R's ``round``: halves go to the even neighbour (IEC 60559), like Python's ``round``."""
    return int(round(x))
