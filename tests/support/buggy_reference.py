"""Deliberately wrong reference models, to prove that the fuzzer finds and minimizes differences.

They are injected through the library API (`accel.verify.fuzz.FuzzOptions.reference`,
`accel.verify.fuzz.Reproducer.run`), never through the CLI. The bench imports them by module path,
so they live in an importable module rather than in a test file.
"""

from accel.verify.fuzz.reference import BusFaultModel
from accel.golden import wrap


class ForgetfulAccumulate(BusFaultModel):
    """COMPUTE_ACC overwrites the accumulator rows instead of adding to them."""

    def _op_compute_acc(self, a_addr: int, m: int, c_addr: int) -> None:
        product, m, n = self._matmul(a_addr, m, c_addr)
        self.acc[c_addr:c_addr + m, :n] = wrap(product, self.config.acc_width)
