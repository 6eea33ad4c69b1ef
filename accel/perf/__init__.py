"""An analytical cycle model of the accelerator: predicted cycles without simulating RTL.

`predict_program` times one program from the ISA's semantics and the microarchitecture's
pipeline latencies (`Timing`), unit overlap, scoreboard hazards and the DMA's bus sharing;
`predict_matmul` times the program `accel.compiler.tiler.plan_matmul` emits; `predict_network` times
every step of a compiled MNIST network (host steps cost no accelerator cycles). The model is
checked against RTL cycles by ``tests/perf`` and ``bench/cycle_model.py``.
"""

from accel.perf.estimate import CycleEstimate, LayerEstimate, NetworkEstimate
from accel.perf.matmul import predict_matmul
from accel.perf.network import predict_network, step_name
from accel.perf.program import predict_program
from accel.perf.timing import Timing

__all__ = ["CycleEstimate", "LayerEstimate", "NetworkEstimate", "Timing", "predict_matmul",
           "predict_network", "predict_program", "step_name"]
