"""The French MTPL data (freMTPL2freq, freMTPL2sev) and everything around it.

- :mod:`~actnn.datasets.fremtpl2`: finding, loading, validating and downloading the files;
- :mod:`~actnn.datasets.schema`: their columns and levels;
- :mod:`~actnn.datasets.prepare`: the data versions of NSW2018 / SW2019 and Wüthrich & Merz (2023);
- :mod:`~actnn.datasets.rsplit` and :mod:`~actnn.datasets.splits`: R's ``sample`` and the
  published learning/test splits;
- :mod:`~actnn.datasets.simulate`: a synthetic portfolio with a known true frequency;
- :mod:`~actnn.datasets.presets`: the published feature engineering (GLM1, SW2019's inputs).

The core of actnn (models, metrics, reports) never imports this package; ``actnn.data`` (the
name before this package existed) still imports it.
"""

from .._validation import DataWarning
from ..tables import (
    WRITE_SUFFIXES,
    PathArg,
    content_fingerprint,
    file_sha256,
    read_table,
    writable_table,
    write_table,
)
from .fremtpl2 import (
    CACHE_DIR_ENV,
    DATA_DIR_ENV,
    FREQ_FINGERPRINT,
    OPENML_DESCRIPTION_URL,
    OPENML_IDS,
    SEV_FINGERPRINT,
    SUFFIXES,
    DataNotFoundError,
    SeverityReport,
    default_cache_dir,
    download_openml,
    find_data_file,
    load_freq,
    load_sev,
    severity_data,
    validate_freq,
    validate_sev,
)
from .prepare import prepare_nsw2018, prepare_wm2023
from .splits import SPLITS, nsw2018_severity_split, nsw2018_split, wm2023_split, write_split

__all__ = [
    "CACHE_DIR_ENV",
    "DATA_DIR_ENV",
    "FREQ_FINGERPRINT",
    "OPENML_DESCRIPTION_URL",
    "OPENML_IDS",
    "SEV_FINGERPRINT",
    "SPLITS",
    "SUFFIXES",
    "WRITE_SUFFIXES",
    "DataNotFoundError",
    "DataWarning",
    "PathArg",
    "SeverityReport",
    "content_fingerprint",
    "default_cache_dir",
    "download_openml",
    "file_sha256",
    "find_data_file",
    "load_freq",
    "load_sev",
    "nsw2018_severity_split",
    "nsw2018_split",
    "prepare_nsw2018",
    "prepare_wm2023",
    "read_table",
    "severity_data",
    "validate_freq",
    "validate_sev",
    "wm2023_split",
    "writable_table",
    "write_split",
    "write_table",
]
