/* runtime.h: the smallest C runtime for the accelgen SoC's control core.
 *
 * UART output (the bus waits while the transmitter is busy, so uart_putc just writes), UART
 * input from the receive FIFO (uart_getc: one bus read per byte), number printing, a tiny
 * printf (uprintf: %d %u %x %X %c %s %%, with an optional 0 flag and width), the 64-bit cycle
 * counter and the LED register. Addresses come from the generated soc.h. */
#ifndef ACCELGEN_RUNTIME_H
#define ACCELGEN_RUNTIME_H

#include <stdint.h>
#include <stddef.h>

#include "soc.h"

void uart_putc(char c);
void uart_puts(const char *s);              /* no newline added */
static inline int uart_getc(void)           /* the oldest received byte, or -1 when none waits */
{
    uint32_t word = SOC_REG(SOC_UART_BASE, SOC_UART_RX);   /* one read pops the receive FIFO */
    return word & SOC_UART_RX_POPPED ? (int)(word & 0xffu) : -1;
}

void print_dec(int32_t value);
void print_udec(uint32_t value);
void print_hex(uint32_t value, unsigned digits); /* 1..8 digits, zero-padded, no "0x" */
/* Arguments are 32-bit (int, unsigned, int32_t, uint32_t are all 32 bits on ilp32). No
 * format attribute: GCC's riscv-elf uint32_t is `long`, which would flag every %u. */
void uprintf(const char *fmt, ...);

uint64_t cycles(void);                       /* the SoC timer: reads LO first (latches HI) */
static inline uint32_t cycles_lo(void)       /* low 32 bits only: enough for short intervals */
{
    return SOC_REG(SOC_TIMER_BASE, SOC_TIMER_CYCLE_LO);
}

void leds_write(uint32_t value);
uint32_t leds_read(void);

/* Provided here so that -O2 loop idioms link without a C library. */
void *memset(void *dst, int value, size_t n);
void *memcpy(void *dst, const void *src, size_t n);

#endif /* ACCELGEN_RUNTIME_H */
