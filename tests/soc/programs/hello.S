/* Prints "hello" on the UART, lights LEDs 0xA5, then reads the timer and spins.
   SOC_UART_BASE, SOC_LEDS_BASE and SOC_TIMER_BASE come from the memory map (-D). */
    .section .text.start
    .global _start
_start:
    li      t0, SOC_UART_BASE
    la      a0, message
1:  lbu     a1, 0(a0)
    beqz    a1, 2f
    sw      a1, 0(t0)               /* DATA: stalls while the transmitter is busy */
    addi    a0, a0, 1
    j       1b
2:  li      t1, SOC_LEDS_BASE
    li      a1, 0xA5
    sw      a1, 0(t1)
    li      t2, SOC_TIMER_BASE
    lw      a2, 0(t2)               /* CYCLE_LO (latches HI) */
    lw      a3, 4(t2)               /* CYCLE_HI */
3:  j       3b

    .section .rodata
message:
    .asciz "hello\n"
