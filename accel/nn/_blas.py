"""Single-threaded BLAS for the small matrix products of training and batch inference.

On a busy two-core machine a multi-threaded OpenBLAS was up to 20x slower on these products
than one thread; one thread also makes float sums independent of the core count.
``threadpoolctl`` comes with the ``mnist`` extra; without it nothing is limited (only slower).
"""

from __future__ import annotations

import contextlib

__all__ = ["blas_fingerprint", "single_threaded_blas"]


def single_threaded_blas() -> contextlib.AbstractContextManager:
    """A context manager limiting BLAS libraries to one thread while it is active."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def blas_fingerprint() -> str:
    """NumPy version and BLAS library, version and kernel family, e.g.
    ``"numpy 2.4.6, openblas 0.3.31.188.0 Haswell"``: runs with equal fingerprints (and seeds)
    train bit-identical networks."""
    import numpy as np

    parts = [f"numpy {np.__version__}"]
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return parts[0] + ", BLAS unknown"
    for library in threadpool_info():
        if library.get("user_api") == "blas":
            parts.append(" ".join(str(library.get(key)) for key in
                                  ("internal_api", "version", "architecture")
                                  if library.get(key)))
    return ", ".join(parts)
