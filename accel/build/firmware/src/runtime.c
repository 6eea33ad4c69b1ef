/* runtime.c: UART, printing, cycle counter and LEDs for the accelgen SoC (see runtime.h). */
#include <stdarg.h>

#include "runtime.h"
#include "soc.h"

void uart_putc(char c)
{
    SOC_REG(SOC_UART_BASE, SOC_UART_DATA) = (uint8_t)c;
}

void uart_puts(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

static void put_padded(const char *digits, unsigned len, unsigned width, char pad)
{
    while (width > len) {
        uart_putc(pad);
        width--;
    }
    while (len)
        uart_putc(digits[--len]);
}

/* Digits are produced least significant first into buf; returns their count. */
static unsigned utoa_rev(uint32_t value, unsigned base, int upper, char *buf)
{
    const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    unsigned len = 0;
    do {
        buf[len++] = set[value % base];
        value /= base;
    } while (value);
    return len;
}

static void put_unsigned(uint32_t value, unsigned base, int upper, unsigned width, char pad)
{
    char buf[12];
    put_padded(buf, utoa_rev(value, base, upper, buf), width, pad);
}

static void put_signed(int32_t value, unsigned width, char pad)
{
    char buf[12];
    uint32_t magnitude = value < 0 ? 0u - (uint32_t)value : (uint32_t)value;
    unsigned len = utoa_rev(magnitude, 10, 0, buf);
    if (value < 0) {
        if (pad == '0') {  /* "-0042": the sign goes before the zeros */
            uart_putc('-');
            if (width)
                width--;
        } else {           /* "  -42": the sign is one of the digits */
            buf[len++] = '-';
        }
    }
    put_padded(buf, len, width, pad);
}

void print_dec(int32_t value) { put_signed(value, 0, ' '); }
void print_udec(uint32_t value) { put_unsigned(value, 10, 0, 0, ' '); }

void print_hex(uint32_t value, unsigned digits)
{
    if (digits < 1)
        digits = 1;
    if (digits > 8)
        digits = 8;
    for (int shift = 4 * (int)(digits - 1); shift >= 0; shift -= 4)
        uart_putc("0123456789abcdef"[(value >> shift) & 0xfu]);
}

void uprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            uart_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        unsigned width = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (unsigned)(*fmt++ - '0');
        while (*fmt == 'l')  /* long is 32 bits on ilp32 */
            fmt++;
        switch (*fmt) {
        case 'd':
        case 'i':
            put_signed(va_arg(ap, int), width, pad);
            break;
        case 'u':
            put_unsigned(va_arg(ap, unsigned), 10, 0, width, pad);
            break;
        case 'x':
        case 'X':
            put_unsigned(va_arg(ap, unsigned), 16, *fmt == 'X', width, pad);
            break;
        case 'c':
            uart_putc((char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            unsigned len = 0;
            while (s[len])
                len++;
            for (; width > len; width--)
                uart_putc(' ');
            uart_puts(s);
            break;
        }
        case '%':
            uart_putc('%');
            break;
        case '\0':
            fmt--;  /* a lone '%' at the end */
            break;
        default:
            uart_putc('%');
            uart_putc(*fmt);
            break;
        }
    }
    va_end(ap);
}

uint64_t cycles(void)
{
    uint32_t lo = SOC_REG(SOC_TIMER_BASE, SOC_TIMER_CYCLE_LO);  /* latches CYCLE_HI */
    uint32_t hi = SOC_REG(SOC_TIMER_BASE, SOC_TIMER_CYCLE_HI);
    return ((uint64_t)hi << 32) | lo;
}

void leds_write(uint32_t value) { SOC_REG(SOC_LEDS_BASE, SOC_LEDS_OUT) = value; }
uint32_t leds_read(void) { return SOC_REG(SOC_LEDS_BASE, SOC_LEDS_OUT); }

void *memset(void *dst, int value, size_t n)
{
    uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)value;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}
