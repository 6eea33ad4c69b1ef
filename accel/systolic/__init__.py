"""Systolic MAC array: processing elements, mesh, input skew / output de-skew, and the top."""

from .array import SystolicArray
from .mesh import DATAFLOWS, Mesh
from .pe import OutputStationaryPE, WeightStationaryPE
from .skew import Skew, deskew_delays, skew_delays

__all__ = [
    "DATAFLOWS",
    "Mesh",
    "OutputStationaryPE",
    "Skew",
    "SystolicArray",
    "WeightStationaryPE",
    "deskew_delays",
    "skew_delays",
]
