/* mnist_uart.c: the board demo: classify the images a host sends over the UART.
 *
 * The SRAM holds this firmware and, at __free_start, a compiled network (the blob of
 * mnist_net.h, with room for one image); `accelgen board build` bakes both into the bitstream.
 * The protocol, version 2 (boards/protocol.py is the host's side; tests/boards checks that the
 * numbers here agree with it):
 *
 *   host -> board  a frame: the sync bytes 0xA5 0x5A, the type, the payload length (uint16,
 *                  little-endian), the payload, then the 16-bit sum of the payload bytes
 *                  (little-endian). Type 'I': the image's uint8 pixels (HWC, exactly the
 *                  network's input size). Type 'V': the handshake, an empty payload.
 *   board -> host  one line per frame, once it has been handled:
 *                    digit <class> cycles <cycles> logits <l0>,<l1>,...      (an image)
 *                    mnist-uart ready <h>x<w>x<c> <classes> classes protocol 2 window <w>
 *                                                                            (a handshake)
 *                  or
 *                    error <reason>
 *                  with reason "checksum", "length <n>", "type <t>", "timeout" (no byte for 1000
 *                  byte times inside a frame), "overrun" (the receive FIFO overflowed: the host
 *                  sent more than its window; bytes were lost) or "accel 0x<status>" (the
 *                  accelerator reported an error; it is cleared). Cycles are mnist_infer's:
 *                  quantization, every step and the argmax, counted by the SoC timer.
 *
 * Batch mode: the UART's receive FIFO (SOC_UART_RX_DEPTH bytes) takes frames while the core
 * classifies, so a host may keep up to <window> = SOC_UART_RX_DEPTH / (frame bytes) frames
 * unanswered (answers come in order, each as soon as its image is classified). That bound holds
 * however slowly the core drains the FIFO: at most <window> frames are ever in it. Protocol 1
 * firmware answers the handshake with "error type 86": window 1, one frame at a time.
 *
 * At boot it prints the handshake's ready line, or an "ERROR ..." line (no network blob) and
 * stops. Bytes outside a frame are ignored until the next sync bytes. The LED register: bits
 * 3..0 the last digit, bit 4 waiting for a frame, bit 5 receiving or classifying, bit 6 the
 * last frame failed. */
#include <stdint.h>

#include "accelgen.h"
#include "matmul.h"  /* accel_status_error */
#include "mnist_net.h"
#include "runtime.h"

#define DEMO_SYNC0 0xa5u
#define DEMO_SYNC1 0x5au
#define DEMO_TYPE_IMAGE 'I'
#define DEMO_TYPE_HELLO 'V'
#define DEMO_PROTOCOL 2u
#define DEMO_FRAME_OVERHEAD 7u /* sync, type, length, sum */
#define DEMO_TIMEOUT_BYTES 1000u

#define LED_DIGIT 0x0fu
#define LED_READY 0x10u
#define LED_BUSY 0x20u
#define LED_FAILED 0x40u

/* Cycles without a byte after which a frame is abandoned. */
static uint32_t byte_timeout;

/* The next received byte, or -1 after byte_timeout cycles without one. One bus read per byte
 * while the FIFO holds bytes. */
static int receive_byte(void)
{
    int c = uart_getc();
    if (c >= 0)
        return c;
    uint32_t start = cycles_lo();
    for (;;) {
        c = uart_getc();
        if (c >= 0)
            return c;
        if (cycles_lo() - start > byte_timeout)
            return -1;
    }
}

/* Wait (for ever) for the two sync bytes. */
static void wait_sync(void)
{
    int c = -1;
    for (;;) {
        while (c != (int)DEMO_SYNC0)
            c = uart_getc();
        c = receive_byte();
        if (c == (int)DEMO_SYNC1)
            return;
    }
}

/* Whether the receive FIFO overflowed since the last call (the flag is cleared). */
static int take_overrun(void)
{
    if (!(SOC_REG(SOC_UART_BASE, SOC_UART_STATUS) & SOC_UART_STATUS_RX_OVERRUN))
        return 0;
    SOC_REG(SOC_UART_BASE, SOC_UART_STATUS) = SOC_UART_STATUS_RX_OVERRUN;
    return 1;
}

/* Receive the rest of a frame (after the sync bytes); an image's pixels go to `pixels`, which
 * holds exactly `size` bytes. Returns the frame's type, or -1 after printing the "error ..."
 * line. A frame with a wrong type or length is read to its end before the answer, so the
 * host's next frame starts afresh. */
static int receive_frame(uint8_t *pixels, uint32_t size)
{
    int header[3];
    for (int i = 0; i < 3; i++)
        if ((header[i] = receive_byte()) < 0)
            goto timeout;
    uint32_t type = (uint32_t)header[0];
    uint32_t length = (uint32_t)header[1] | (uint32_t)header[2] << 8;
    uint32_t want = type == DEMO_TYPE_IMAGE ? size : 0;
    /* The payload goes to the pixels, or (a wrong type or length) nowhere. */
    uint8_t sink, *dst = type == DEMO_TYPE_IMAGE && length == size ? pixels : &sink;
    uint32_t step = dst == pixels;
    uint32_t sum = 0;
    for (uint32_t left = length; left;) {
        /* The bytes the FIFO holds are popped without checks: one bus read each. */
        uint32_t n = SOC_REG(SOC_UART_BASE, SOC_UART_STATUS) / SOC_UART_STATUS_RX_LEVEL;
        if (n == 0) {
            int c = receive_byte();
            if (c < 0)
                goto timeout;
            *dst = (uint8_t)c;
            dst += step;
            sum += (uint32_t)c;
            left--;
            continue;
        }
        if (n > left)
            n = left;
        left -= n;
        while (n--) {
            uint32_t c = SOC_REG(SOC_UART_BASE, SOC_UART_RX) & 0xffu;
            *dst = (uint8_t)c;
            dst += step;
            sum += c;
        }
    }
    int lo = receive_byte(), hi = lo < 0 ? -1 : receive_byte();
    if (hi < 0)
        goto timeout;
    if (take_overrun()) {
        uart_puts("error overrun\n");
        return -1;
    }
    if (type != DEMO_TYPE_IMAGE && type != DEMO_TYPE_HELLO) {
        uprintf("error type %u\n", type);
        return -1;
    }
    if (length != want) {
        uprintf("error length %u\n", length);
        return -1;
    }
    if (((uint32_t)lo | (uint32_t)hi << 8) != (sum & 0xffffu)) {
        uart_puts("error checksum\n");
        return -1;
    }
    return (int)type;
timeout:
    take_overrun();
    uart_puts("error timeout\n");
    return -1;
}

/* The handshake's line: the network's shape, the protocol and the batch window. */
static void print_ready(const struct mnist_blob *b)
{
    uint32_t window = SOC_UART_RX_DEPTH / (mnist_input_bytes(b) + DEMO_FRAME_OVERHEAD);
    uprintf("mnist-uart ready %ux%ux%u %u classes protocol %u window %u\n", b->input_height,
            b->input_width, b->input_channels, b->output_count, DEMO_PROTOCOL,
            window ? window : 1u);
}

int main(void)
{
    const struct mnist_blob *b = mnist_blob();
    leds_write(LED_FAILED);
    if (mnist_check_blob(b))
        return 1;
    byte_timeout = SOC_REG(SOC_UART_BASE, SOC_UART_DIVISOR) * 10u * DEMO_TIMEOUT_BYTES;
    uint8_t *pixels = (uint8_t *)(uintptr_t)b->images_addr;
    if (accel_status_error(accel_status()))
        accel_clear_error();
    take_overrun();
    print_ready(b);

    uint32_t digit = 0;
    for (;;) {
        leds_write(digit | LED_READY);
        wait_sync();
        leds_write(digit | LED_BUSY);
        int type = receive_frame(pixels, mnist_input_bytes(b));
        if (type < 0) {
            leds_write(digit | LED_FAILED);
            continue;
        }
        if (type == DEMO_TYPE_HELLO) {
            print_ready(b);
            continue;
        }
        struct mnist_result r;
        if (mnist_infer(b, pixels, &r)) {
            leds_write(LED_FAILED);
            return 1;
        }
        if (accel_status_error(r.status)) {
            uprintf("error accel 0x%08x\n", r.status);
            accel_clear_error();
            continue;
        }
        digit = r.pred & LED_DIGIT;
        uprintf("digit %u cycles %u logits ", r.pred, r.cycles);
        for (uint32_t i = 0; i < b->output_count; i++)
            uprintf(i ? ",%d" : "%d", mnist_output(b, i));
        uart_putc('\n');
    }
}
