/* start.S: reset entry of the control core (PicoRV32, RV32IM, IRQs off).
 *
 * The reset vector is the SRAM base (the linker script puts .text.start first). The whole image
 * (.text, .rodata, .data) is loaded into SRAM before reset, so nothing is copied; .bss is zeroed
 * here, the stack starts at the top of SRAM, and main's return value is kept in a0 while the
 * core spins (PicoRV32 has no WFI). */

    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, __stack_top
    andi    sp, sp, -16

    /* Zero .bss (both bounds are 4-byte aligned by the linker script). */
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sw      zero, 0(t0)
    addi    t0, t0, 4
    j       1b
2:
    li      a0, 0
    li      a1, 0
    call    main
    /* main returned: its status stays in a0 for a testbench to look at. */
    .globl _halt
_halt:
    j       _halt
    .size _start, . - _start
