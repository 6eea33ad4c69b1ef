"""The int8 network stack: integer layers and their exact reference, quantization, training,
model files, the compiler to accelerator programs and host steps, and inference on the golden
model. MNIST (its data and the recipe of the two committed networks) lives in `accel.nn.mnist`.

Nothing here imports Amaranth or gateware: the RTL and SoC backends and the evaluation over all
backends are in `accel.runtime` (`network_rtl`, `network_soc`, `evaluate`).
"""
