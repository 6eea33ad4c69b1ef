"""Predicted cycles of one inference of a compiled MNIST network, step by step."""

from __future__ import annotations

from accel.nn.compiler import AccelStep, CompiledNetwork
from accel.perf.estimate import LayerEstimate, NetworkEstimate
from accel.perf.program import predict_program

__all__ = ["predict_network", "step_name"]


def step_name(compiled: CompiledNetwork, layers: tuple[int, ...], host: bool = False) -> str:
    """A step's name from its layers' kinds and indices, e.g. ``"conv2d[0]"``."""
    kinds = [type(compiled.network.layers[i]).__name__.lower() for i in layers]
    name = "+".join(f"{kind}[{index}]" for kind, index in zip(kinds, layers))
    return f"{name} (host)" if host else name


def predict_network(config, compiled: CompiledNetwork) -> NetworkEstimate:
    """Predict every step of ``compiled`` on ``config``: accelerator programs with
    `predict_program`, host steps (pooling on the control core) as 0 accelerator cycles, as
    `accel.runtime.network_rtl.run_rtl` counts them."""
    out = []
    for step in compiled.steps:
        if isinstance(step, AccelStep):
            out.append(LayerEstimate(step_name(compiled, step.layers), step.layers,
                                     len(step.commands), predict_program(config,
                                                                         step.commands)))
        else:
            out.append(LayerEstimate(step_name(compiled, (step.layer,), host=True),
                                     (step.layer,), 0, None))
    return NetworkEstimate(tuple(out))
