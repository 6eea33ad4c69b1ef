/* A tiny console: prints "ready", reads one line from the UART (polling STATUS.RX_VALID), then
     "trap..."  executes ebreak (the core traps),
     "bus..."   loads from just past the SRAM (unmapped: a bus error), then prints "PASS",
     otherwise  prints "echo: <line>" and "PASS".
   Addresses come from the memory map (-DSOC_<NAME>_BASE/SIZE). */
    .section .text.start
    .global _start
_start:
    li      s0, SOC_UART_BASE
    la      a0, ready
    jal     ra, puts
    la      s1, line
1:  lw      t0, 4(s0)               /* STATUS */
    andi    t0, t0, 2               /* RX_VALID */
    beqz    t0, 1b
    lw      t1, 8(s0)               /* RX: pops the byte (bit 8 says one was popped) */
    andi    t1, t1, 0xff
    li      t2, '\n'
    beq     t1, t2, 2f
    sb      t1, 0(s1)
    addi    s1, s1, 1
    j       1b
2:  sb      zero, 0(s1)
    la      t3, line
    lbu     t0, 0(t3)
    li      t2, 't'
    beq     t0, t2, do_trap
    li      t2, 'b'
    beq     t0, t2, do_bus
    la      a0, echo
    jal     ra, puts
    la      a0, line
    jal     ra, puts
    la      a0, pass
    jal     ra, puts
    j       halt
do_trap:
    ebreak
do_bus:
    li      t0, SOC_SRAM_BASE + SOC_SRAM_SIZE
    lw      t1, 0(t0)
    la      a0, pass
    jal     ra, puts
halt:
    j       halt

/* puts(a0): write the NUL-terminated string at a0 to DATA (each write waits for the UART). */
puts:
    lbu     t0, 0(a0)
    beqz    t0, 1f
    sw      t0, 0(s0)
    addi    a0, a0, 1
    j       puts
1:  ret

    .section .rodata
ready:  .asciz "ready\n"
echo:   .asciz "echo: "
pass:   .asciz "\nPASS\n"

    .section .bss
line:   .space 64
