"""The int8 network stack: integer layers and their exact reference, quantization, training,
model files, the compiler to accelerator programs and host steps, and inference on every backend.

MNIST (its data and the recipe of the two committed networks) lives in :mod:`accel.nn.mnist`.
Nothing here imports Amaranth; the RTL and SoC backends load it when they run.
"""
