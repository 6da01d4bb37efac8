"""actnn.tables: files written through pyarrow (where installed) read back as pandas would write."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from actnn import tables


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "level": pd.Categorical(["a", "b,c", 'q"x', "a"]),
            "flag": [True, False, True, True],
            "x": [1.5, np.nan, 1e-300, 0.1 + 0.2],
            "text": ["x", None, "z, y", ""],
            "n": [1, 2, 3, 4],
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_written_csv_reads_back_as_the_pandas_file(tmp_path, suffix):
    pytest.importorskip("pyarrow")
    frame = _frame()
    tables.write_table(frame, tmp_path / f"actnn{suffix}")
    frame.to_csv(tmp_path / f"pandas{suffix}", index=False)
    ours = pd.read_csv(tmp_path / f"actnn{suffix}")
    pd.testing.assert_frame_equal(ours, pd.read_csv(tmp_path / f"pandas{suffix}"))
    assert ours["x"].iloc[3] == 0.1 + 0.2  # floats to the last bit


def test_a_frame_pyarrow_cannot_convert_is_written_by_pandas(tmp_path):
    frame = pd.DataFrame({"mixed": [1, "a", 2.5]})  # pyarrow refuses a column of mixed types
    tables.write_table(frame, tmp_path / "mixed.csv")
    assert (tmp_path / "mixed.csv").read_text() == "mixed\n1\na\n2.5\n"
