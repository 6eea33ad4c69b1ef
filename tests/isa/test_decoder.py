"""The generated hardware decoder agrees with the Python decoder on every kind of command."""

import numpy as np
import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator

from accel.isa import INSTRUCTIONS, Command, IllegalInstruction, decode, encode
from accel.isa.decoder import Decoder, Op


def _random_commands(rng, count):
    commands = []
    for _ in range(count):
        choice = rng.integers(0, 4)
        ins = INSTRUCTIONS[rng.integers(0, len(INSTRUCTIONS))]
        if choice == 0:  # a legal command with random operands
            ops = {f.name: int(rng.integers(f.min_value, f.max_value + 1)) for f in ins.fields}
            ops.update({f.name: int(rng.integers(0, 2)) for f in ins.fields if f.choices})
            commands.append(encode(ins.name, **ops))
        elif choice == 1:  # a legal command with one random reserved bit set (often illegal)
            legal = encode(ins.name, **{f.name: f.min_value for f in ins.fields})
            bit = 1 << int(rng.integers(0, 32))
            reg = "rs1" if rng.integers(0, 2) else "rs2"
            commands.append(Command(legal.funct7, legal.funct3,
                                    legal.rs1 | (bit if reg == "rs1" else 0),
                                    legal.rs2 | (bit if reg == "rs2" else 0)))
        else:  # anything at all
            commands.append(Command(int(rng.integers(0, 128)), int(rng.integers(0, 8)),
                                    int(rng.integers(0, 1 << 32)), int(rng.integers(0, 1 << 32))))
    # Reserved activation values and every (funct7, funct3) an instruction uses.
    commands.append(Command(0x10, 2, 1, 2 << 6))
    commands.append(Command(0x10, 2, 1, 3 << 6))
    commands += [Command(ins.funct7, ins.funct3) for ins in INSTRUCTIONS]
    return commands


@pytest.mark.slow
def test_decoder_matches_python_decode():
    rng = np.random.default_rng(11)
    commands = _random_commands(rng, 1500)
    dut = Decoder()
    mismatches = []

    async def bench(ctx):
        for cmd in commands:
            ctx.set(dut.command, {"funct7": cmd.funct7, "funct3": cmd.funct3,
                                  "rs1": cmd.rs1, "rs2": cmd.rs2})
            op = ctx.get(dut.op)
            try:
                ins, values = decode(cmd)
            except IllegalInstruction:
                if op != Op.ILLEGAL:
                    mismatches.append((cmd, op, "should be illegal"))
                continue
            if op != Op[ins.name.upper()]:
                mismatches.append((cmd, op, ins.name))
                continue
            for name, value in values.items():
                got = ctx.get(getattr(dut.operands, name))
                if got != value:
                    mismatches.append((cmd, name, got, value))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    assert not mismatches, mismatches[:5]


@pytest.mark.slow
def test_decoder_converts_to_verilog():
    text = verilog.convert(Decoder(), name="decoder")
    assert "module decoder" in text
