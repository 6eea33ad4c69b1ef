"""Systolic MAC array: processing elements, mesh, input skew / output de-skew, and the top."""

from accel.systolic.array import SystolicArray
from accel.systolic.mesh import Mesh
from accel.systolic.pe import OutputStationaryPE, WeightStationaryPE
from accel.systolic.skew import Skew, deskew_delays, skew_delays

__all__ = [
    "Mesh",
    "OutputStationaryPE",
    "Skew",
    "SystolicArray",
    "WeightStationaryPE",
    "deskew_delays",
    "skew_delays",
]
