"""Amaranth helpers that every gateware folder (systolic, memory, control, boards) may use."""
