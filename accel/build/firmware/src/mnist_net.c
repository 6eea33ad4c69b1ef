/* mnist_net.c: the interpreter of compiled networks (see mnist_net.h). */
#include <stdint.h>

#include "accelgen.h"
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

/* On int32: int8_t results would be sign-extended again after every comparison. */
static inline int32_t max32(int32_t a, int32_t b) { return a > b ? a : b; }

/* Per-byte maximum of four signed bytes packed in each word, without carries between bytes.
 * Inputs come with each byte's sign bit flipped (x ^ 0x80), which makes signed order unsigned. */
static inline uint32_t max4(uint32_t a, uint32_t b)
{
    const uint32_t high = 0x80808080u;
    uint32_t low_ge = ((a | high) - (b & ~high)) & high;       /* a >= b on the low 7 bits */
    uint32_t ge = (a & ~b & high) | (~(a ^ b) & low_ge);        /* a >= b, in bit 7 per byte */
    uint32_t mask = (ge - (ge >> 7)) | ge;                      /* 0xff where a >= b */
    return (a & mask) | (b & ~mask);
}

/* 2x2 windows (the usual case), four channels per word when the layout allows (channels a
 * multiple of 4 and word-aligned buffers), else one byte at a time. row: bytes per source
 * row. */
static __attribute__((noinline)) void maxpool2(const int8_t *src, int8_t *dst, uint32_t oh,
                                               uint32_t ow, uint32_t channels, uint32_t row)
{
    if (channels % 4 == 0 && ((uintptr_t)src | (uintptr_t)dst | row) % 4 == 0) {
        const uint32_t flip = 0x80808080u;
        uint32_t step = channels / 4, stride = row / 4;
        uint32_t *out = (uint32_t *)dst;
        for (uint32_t y = 0; y < oh; y++) {
            const uint32_t *p = (const uint32_t *)(src + 2 * y * row);
            for (uint32_t x = 0; x < ow; x++, p += 2 * step) {
                for (uint32_t c = 0; c < step; c++) {
                    uint32_t top = max4(p[c] ^ flip, p[c + step] ^ flip);
                    uint32_t bottom = max4(p[c + stride] ^ flip, p[c + stride + step] ^ flip);
                    *out++ = max4(top, bottom) ^ flip;
                }
            }
        }
        return;
    }
    for (uint32_t y = 0; y < oh; y++) {
        const int8_t *p = src + 2 * y * row;
        for (uint32_t x = 0; x < ow; x++, p += channels) {
            const int8_t *end = p + channels;
            for (; p < end; p++) {
                int32_t top = max32(p[0], p[channels]);
                *dst++ = (int8_t)max32(top, max32(p[row], p[row + channels]));
            }
        }
    }
}

/* hostops.MaxPool.apply: int8 HWC source with a row pitch (in pixels) -> packed destination,
 * the fields in MaxPool's order: src, pitch, height, width, channels, size, dst. */
static __attribute__((noinline)) void maxpool(const uint32_t *a)
{
    const int8_t *src = (const int8_t *)(uintptr_t)a[0];
    uint32_t pitch = a[1], height = a[2], width = a[3], channels = a[4], size = a[5];
    int8_t *dst = (int8_t *)(uintptr_t)a[6];
    uint32_t oh = height / size, ow = width / size, row = pitch * channels;
    if (size == 2) {
        maxpool2(src, dst, oh, ow, channels, row);
        return;
    }
    for (uint32_t y = 0; y < oh; y++) {
        for (uint32_t x = 0; x < ow; x++) {
            const int8_t *window = src + y * size * row + x * size * channels;
            for (uint32_t c = 0; c < channels; c++) {
                int32_t best = window[c];
                for (uint32_t dy = 0; dy < size; dy++) {
                    const int8_t *p = window + dy * row + c;
                    for (uint32_t dx = 0; dx < size; dx++, p += channels)
                        best = max32(best, *p);
                }
                *dst++ = (int8_t)best;
            }
        }
    }
}

/* pixel >> shift for every byte; four bytes at a time (both buffers are 4-byte aligned). */
static void quantize(const uint8_t *pixels, int8_t *input, uint32_t count, uint32_t shift)
{
    uint32_t mask = (0xffu >> shift) * 0x01010101u;
    const uint32_t *from = (const uint32_t *)pixels;
    uint32_t *to = (uint32_t *)input;
    uint32_t words = count / 4;
    for (uint32_t i = 0; i < words; i++)
        to[i] = (from[i] >> shift) & mask;
    for (uint32_t i = words * 4; i < count; i++)
        input[i] = (int8_t)(pixels[i] >> shift);
}

/* Issue count commands; returns the index of the first unknown one (not issued), or count. */
static __attribute__((noinline)) uint32_t issue(const struct mnist_command *cmd, uint32_t count)
{
    uint32_t rd;
    for (uint32_t i = 0; i < count; i++, cmd++)
        if (accel_issue_code(cmd->code, cmd->rs1, cmd->rs2, &rd))
            return i;
    return count;
}

/* Run an accelerator step (its last command is the fence); returns 0, or -1 after printing an
 * ERROR line. */
static int run_accel(const uint32_t *a, struct mnist_timing *t)
{
    uint32_t count = a[0];
    const struct mnist_command *cmd = (const struct mnist_command *)(uintptr_t)a[1];
    uint32_t start = cycles_lo();
    uint32_t done = count ? issue(cmd, count - 1) : 0;
    uint32_t mark = cycles_lo();
    t->issue += mark - start;
    if (done + 1 == count)
        done += issue(cmd + done, 1);
    t->wait += cycles_lo() - mark;
    if (done != count) {
        uprintf("ERROR unknown command funct7 0x%02x funct3 %u\n", cmd[done].code >> 3,
                cmd[done].code & 7u);
        return -1;
    }
    return 0;
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
    if (b->classes == 0 || (b->input_addr | b->images_addr | b->logits_addr) & 3u) {
        uprintf("ERROR malformed blob header\n");
        return -1;
    }
    return 0;
}

int mnist_infer(const struct mnist_blob *b, const uint8_t *pixels, struct mnist_result *r)
{
    const struct mnist_step *steps = (const struct mnist_step *)(uintptr_t)b->steps_addr;
    int8_t *input = (int8_t *)(uintptr_t)b->input_addr;
    const int32_t *logits = (const int32_t *)(uintptr_t)b->logits_addr;
    struct mnist_timing *t = &r->timing;

    *t = (struct mnist_timing){0, 0, 0, 0};
    uint32_t start = cycles_lo();
    quantize(pixels, input, mnist_input_bytes(b), b->input_shift);
    uint32_t mark = cycles_lo();
    t->quant = mark - start;
    for (uint32_t s = 0; s < b->step_count; s++) {
        if (steps[s].kind == MNIST_STEP_ACCEL) {
            if (run_accel(steps[s].args, t))
                return -1;
        } else if (steps[s].kind == MNIST_STEP_MAXPOOL) {
            mark = cycles_lo();
            maxpool(steps[s].args);
            t->pool += cycles_lo() - mark;
        } else {
            uprintf("ERROR step %u has unknown kind %u\n", s, steps[s].kind);
            return -1;
        }
    }
    r->status = accel_status();
    uint32_t pred = 0;
    for (uint32_t i = 1; i < b->classes; i++)
        if (logits[i] > logits[pred])
            pred = i;
    r->pred = pred;
    r->cycles = cycles_lo() - start;
    return 0;
}
