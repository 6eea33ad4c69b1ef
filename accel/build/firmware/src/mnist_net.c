/* mnist_net.c: the interpreter of compiled networks (see mnist_net.h). */
#include <stdint.h>

#include "accelgen.h"
#include "hostops.h"
#include "mnist_net.h"
#include "runtime.h"

extern uint32_t __free_start[]; /* 16-byte aligned by the linker script */

const struct mnist_blob *mnist_blob(void)
{
    return (const struct mnist_blob *)__free_start;
}

uint32_t mnist_input_bytes(const struct mnist_blob *b)
{
    return b->input_height * b->input_width * b->input_channels;
}

int32_t mnist_output(const struct mnist_blob *b, uint32_t i)
{
    if (b->output_bytes == 1)
        return ((const int8_t *)(uintptr_t)b->output_addr)[i];
    return ((const int32_t *)(uintptr_t)b->output_addr)[i];
}

/* The input: pixel >> shift on whole words, eight words per iteration (few of PicoRV32's taken
 * branches; both buffers are 4-byte aligned), then the last words and bytes; or the table. */
static void quantize(const struct mnist_blob *b, const uint8_t *pixels, int8_t *input,
                     uint32_t count)
{
    uint32_t shift = b->input_shift;
    if (shift == 0) {
        /* pixel codes (the programs convert them as they load them): a plain copy, or nothing
         * when the image already sits in the input buffer */
        if ((const void *)pixels == (const void *)input)
            return;
        const uint32_t *from = (const uint32_t *)pixels;
        uint32_t *to = (uint32_t *)input;
        const uint32_t *end = from + (count / 32) * 8;
        while (from != end) {
            uint32_t w0 = from[0], w1 = from[1], w2 = from[2], w3 = from[3];
            uint32_t w4 = from[4], w5 = from[5], w6 = from[6], w7 = from[7];
            to[0] = w0; to[1] = w1; to[2] = w2; to[3] = w3;
            to[4] = w4; to[5] = w5; to[6] = w6; to[7] = w7;
            from += 8;
            to += 8;
        }
        for (end = (const uint32_t *)pixels + count / 4; from != end; from++, to++)
            *to = *from;
        for (uint32_t i = count & ~3u; i < count; i++)
            input[i] = (int8_t)pixels[i];
        return;
    }
    if (shift < 8) {
        uint32_t mask = (0xffu >> shift) * 0x01010101u;
        const uint32_t *from = (const uint32_t *)pixels;
        uint32_t *to = (uint32_t *)input;
        const uint32_t *end = from + (count / 32) * 8;
        while (from != end) {
            uint32_t w0 = from[0], w1 = from[1], w2 = from[2], w3 = from[3];
            uint32_t w4 = from[4], w5 = from[5], w6 = from[6], w7 = from[7];
            to[0] = (w0 >> shift) & mask;
            to[1] = (w1 >> shift) & mask;
            to[2] = (w2 >> shift) & mask;
            to[3] = (w3 >> shift) & mask;
            to[4] = (w4 >> shift) & mask;
            to[5] = (w5 >> shift) & mask;
            to[6] = (w6 >> shift) & mask;
            to[7] = (w7 >> shift) & mask;
            from += 8;
            to += 8;
        }
        for (end = (const uint32_t *)pixels + count / 4; from != end; from++, to++)
            *to = (*from >> shift) & mask;
        for (uint32_t i = count & ~3u; i < count; i++)
            input[i] = (int8_t)(pixels[i] >> shift);
        return;
    }
    const int8_t *lut = (const int8_t *)(uintptr_t)b->lut_addr;
    for (uint32_t i = 0; i < count; i++)
        input[i] = lut[pixels[i]];
}

/* The image being quantized into the input buffer: bytes [0, done) are. */
struct input_state {
    const struct mnist_blob *b;
    const uint8_t *pixels;
    int8_t *input;
    uint32_t done, total;
};

/* Quantize the input up to byte `bytes` (a multiple of 32, or the total). */
static void quantize_upto(struct input_state *in, uint32_t bytes, struct mnist_timing *t)
{
    if (bytes <= in->done)
        return;
    uint32_t start = cycles_lo();
    quantize(in->b, in->pixels + in->done, in->input + in->done, bytes - in->done);
    in->done = bytes;
    t->quant += cycles_lo() - start;
}

static void exec_records(uint32_t addr, uint32_t count, struct mnist_timing *t)
{
    uint32_t start = cycles_lo();
    if (count)
        accel_exec_buffer(addr, count);
    t->issue += cycles_lo() - start;
}

/* Run an accelerator step (record count, record address, stage count, stages): each stage's
 * records with one EXEC_BUFFER once the input bytes it needs are quantized (the accelerator runs
 * the earlier stages meanwhile), the rest once the whole input is, then the FENCE that waits
 * for them. An illegal record sets the accelerator's sticky error (read back with the status). */
static void run_accel(const uint32_t *a, struct input_state *in, struct mnist_timing *t)
{
    uint32_t count = a[0], addr = a[1];
    const uint32_t *stage = a + 3;
    for (uint32_t k = 0; k < a[2]; k++, stage += 2) {
        quantize_upto(in, stage[1], t);
        exec_records(addr, stage[0], t);
        addr += ACCEL_RECORD_BYTES * stage[0];
        count -= stage[0];
    }
    quantize_upto(in, in->total, t);
    exec_records(addr, count, t);
    uint32_t mark = cycles_lo();
    accel_fence();
    t->wait += cycles_lo() - mark;
}

/* The word count a step of `kind` carries, or 0 for an unknown kind. */
static uint32_t step_words(uint32_t kind)
{
    switch (kind) {
    case MNIST_STEP_MAXPOOL: return HOSTOP_MAXPOOL_V1_WORDS;
    case MNIST_STEP_MAXPOOL2D: return HOSTOP_MAXPOOL_WORDS;
    case MNIST_STEP_AVGPOOL: return HOSTOP_AVGPOOL_WORDS;
    case MNIST_STEP_ADD: return HOSTOP_ADD_WORDS;
    default: return 0;
    }
}

int mnist_check_blob(const struct mnist_blob *b)
{
    if (b->magic != MNIST_BLOB_MAGIC) {
        uprintf("ERROR no network blob at 0x%08x (magic 0x%08x)\n", (uint32_t)(uintptr_t)b,
                b->magic);
        return -1;
    }
    if (b->version != MNIST_BLOB_VERSION) {
        uprintf("ERROR blob version %u, firmware reads version %u\n", b->version,
                MNIST_BLOB_VERSION);
        return -1;
    }
    if (b->output_count == 0 || (b->output_bytes != 1 && b->output_bytes != 4)
        || (b->input_shift >= 8 && b->input_shift != MNIST_LUT_ONLY)
        || (b->input_addr | b->images_addr | b->output_addr | b->steps_addr) & 3u) {
        uprintf("ERROR malformed blob header\n");
        return -1;
    }
    const uint32_t *step = (const uint32_t *)(uintptr_t)b->steps_addr;
    for (uint32_t s = 0; s < b->step_count; s++) {
        uint32_t words = step_words(step[0]);
        if (step[0] == MNIST_STEP_ACCEL && step[1] >= 3 && step[4] < 256) {
            /* Stages: their records add up to at most the step's, their input byte counts are
             * multiples of 32 (or the whole input) within the input. */
            uint32_t staged = 0, total = mnist_input_bytes(b);
            words = step[1] == 3 + 2 * step[4] ? step[1] : 0;
            for (uint32_t k = 0; k < step[4] && words; k++) {
                uint32_t bytes = step[6 + 2 * k];
                staged += step[5 + 2 * k];
                if (bytes > total || (bytes & 31u && bytes != total))
                    words = 0;
            }
            if (staged > step[2])
                words = 0;
        }
        if (words == 0 || step[1] != words) {
            uprintf("ERROR step %u has kind %u with %u words\n", s, step[0], step[1]);
            return -1;
        }
        step += 2 + words;
    }
    return 0;
}

int mnist_infer(const struct mnist_blob *b, const uint8_t *pixels, struct mnist_result *r)
{
    const uint32_t *step = (const uint32_t *)(uintptr_t)b->steps_addr;
    int8_t *input = (int8_t *)(uintptr_t)b->input_addr;
    struct mnist_timing *t = &r->timing;

    struct input_state in = {b, pixels, input, 0, mnist_input_bytes(b)};

    *t = (struct mnist_timing){0, 0, 0, 0};
    uint32_t start = cycles_lo();
    for (uint32_t s = 0; s < b->step_count; s++, step += 2 + step[1]) {
        uint32_t kind = step[0];
        const uint32_t *args = step + 2;
        if (kind == MNIST_STEP_ACCEL) {
            run_accel(args, &in, t);
            continue;
        }
        quantize_upto(&in, in.total, t);
        uint32_t mark = cycles_lo();
        switch (kind) {
        case MNIST_STEP_MAXPOOL: hostop_maxpool_v1(args); break;
        case MNIST_STEP_MAXPOOL2D: hostop_maxpool(args); break;
        case MNIST_STEP_AVGPOOL: hostop_avgpool(args); break;
        case MNIST_STEP_ADD: hostop_add(args); break;
        default:
            uprintf("ERROR step %u has unknown kind %u\n", s, kind);
            return -1;
        }
        t->pool += cycles_lo() - mark;
    }
    quantize_upto(&in, in.total, t);
    r->status = accel_status();
    uint32_t pred = 0;
    int32_t best = mnist_output(b, 0);
    for (uint32_t i = 1; i < b->output_count; i++) {
        int32_t v = mnist_output(b, i);
        if (v > best) {
            best = v;
            pred = i;
        }
    }
    r->pred = pred;
    r->cycles = cycles_lo() - start;
    return 0;
}
