/* hostops.c: host operations on int8 HWC tensors (see hostops.h). */
#include <stdint.h>

#include "hostops.h"

/* On int32: int8_t results would be sign-extended again after every comparison. */
static inline int32_t max32(int32_t a, int32_t b) { return a > b ? a : b; }

static inline int8_t sat8(int64_t v) { return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v); }

static inline int64_t round_shift64(int64_t p, uint32_t s)
{
    return s ? (p >> s) + ((p >> (s - 1)) & 1) : p;
}

static inline int32_t round_shift32(int32_t p, uint32_t s)
{
    return s ? (p >> s) + ((p >> (s - 1)) & 1) : p;
}

#ifdef HOSTOPS_MEM
/* The host build (tests/build/firmware/test_hostops_c.py): addresses index this buffer. */
extern uint8_t HOSTOPS_MEM[];
static inline int8_t *ptr(uint32_t addr) { return (int8_t *)&HOSTOPS_MEM[addr]; }
#else
static inline int8_t *ptr(uint32_t addr) { return (int8_t *)(uintptr_t)addr; }
#endif
static inline const int8_t *cptr(uint32_t addr) { return ptr(addr); }

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

/* 2x2 windows at stride 2 (the usual case) into a packed destination, four channels per word
 * when the layout allows (channels a multiple of 4 and word-aligned buffers), else one byte at a
 * time. row: bytes per source row. */
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

/* The general window: kh x kw pixels of a source with `row` bytes per row. */
static void maxpool_any(const int8_t *src, uint32_t row, uint32_t channels, uint32_t oh,
                        uint32_t ow, uint32_t kh, uint32_t kw, uint32_t sh, uint32_t sw,
                        int8_t *dst, uint32_t dst_row)
{
    for (uint32_t y = 0; y < oh; y++) {
        int8_t *out = dst + y * dst_row;
        for (uint32_t x = 0; x < ow; x++) {
            const int8_t *window = src + y * sh * row + x * sw * channels;
            for (uint32_t c = 0; c < channels; c++) {
                int32_t best = window[c];
                for (uint32_t dy = 0; dy < kh; dy++) {
                    const int8_t *p = window + dy * row + c;
                    for (uint32_t dx = 0; dx < kw; dx++, p += channels)
                        best = max32(best, *p);
                }
                *out++ = (int8_t)best;
            }
        }
    }
}

void hostop_maxpool_v1(const uint32_t *w)
{
    const int8_t *src = cptr(w[0]);
    uint32_t pitch = w[1], height = w[2], width = w[3], channels = w[4], size = w[5];
    int8_t *dst = ptr(w[6]);
    uint32_t oh = height / size, ow = width / size, row = pitch * channels;
    if (size == 2)
        maxpool2(src, dst, oh, ow, channels, row);
    else
        maxpool_any(src, row, channels, oh, ow, size, size, size, size, dst, ow * channels);
}

void hostop_maxpool(const uint32_t *w)
{
    const int8_t *src = cptr(w[0]);
    uint32_t pitch = w[1], height = w[2], width = w[3], channels = w[4];
    uint32_t kh = w[5], kw = w[6], sh = w[7], sw = w[8];
    int8_t *dst = ptr(w[9]);
    uint32_t dst_pitch = w[10];
    if (height < kh || width < kw)
        return;
    uint32_t oh = (height - kh) / sh + 1, ow = (width - kw) / sw + 1, row = pitch * channels;
    if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && dst_pitch == ow)
        maxpool2(src, dst, oh, ow, channels, row);
    else
        maxpool_any(src, row, channels, oh, ow, kh, kw, sh, sw, dst, dst_pitch * channels);
}

void hostop_avgpool(const uint32_t *w)
{
    const int8_t *src = cptr(w[0]);
    uint32_t pitch = w[1], height = w[2], width = w[3], channels = w[4];
    uint32_t kh = w[5], kw = w[6], sh = w[7], sw = w[8];
    int32_t top = (int32_t)w[9], left = (int32_t)w[10], bottom = (int32_t)w[11];
    int32_t right = (int32_t)w[12];
    uint32_t include_pad = w[13];
    int32_t in_zp = (int32_t)w[14], out_zp = (int32_t)w[15];
    const uint32_t *table = (const uint32_t *)cptr(w[16]);
    int8_t *dst = ptr(w[17]);
    uint32_t dst_pitch = w[18], row = pitch * channels;
    int32_t ph = (int32_t)height + top + bottom, pw = (int32_t)width + left + right;
    if (ph < (int32_t)kh || pw < (int32_t)kw)
        return;
    uint32_t oh = (uint32_t)(ph - (int32_t)kh) / sh + 1, ow = (uint32_t)(pw - (int32_t)kw) / sw + 1;
    for (uint32_t y = 0; y < oh; y++) {
        int32_t y0 = (int32_t)(y * sh) - top, y1 = y0 + (int32_t)kh;
        if (y0 < 0)
            y0 = 0;
        if (y1 > (int32_t)height)
            y1 = (int32_t)height;
        int8_t *out = dst + y * dst_pitch * channels;
        for (uint32_t x = 0; x < ow; x++) {
            int32_t x0 = (int32_t)(x * sw) - left, x1 = x0 + (int32_t)kw;
            if (x0 < 0)
                x0 = 0;
            if (x1 > (int32_t)width)
                x1 = (int32_t)width;
            int32_t rows = y1 > y0 ? y1 - y0 : 0, cols = x1 > x0 ? x1 - x0 : 0;
            uint32_t n = include_pad ? kh * kw : (uint32_t)(rows * cols);
            /* n == 0 (a window wholly in the padding) sums nothing: any factor gives 0. */
            int64_t mult = n ? (int64_t)table[2 * (n - 1)] : 0;
            uint32_t shift = n ? table[2 * (n - 1) + 1] : 0;
            const int8_t *window = src + (uint32_t)y0 * row + (uint32_t)x0 * channels;
            for (uint32_t c = 0; c < channels; c++) {
                int32_t sum = 0;
                for (int32_t dy = 0; dy < rows; dy++) {
                    const int8_t *p = window + (uint32_t)dy * row + c;
                    for (int32_t dx = 0; dx < cols; dx++, p += channels)
                        sum += *p;
                }
                sum -= in_zp * rows * cols;
                *out++ = sat8(round_shift64((int64_t)sum * mult, shift) + out_zp);
            }
        }
    }
}

void hostop_add(const uint32_t *w)
{
    const int8_t *a = cptr(w[0]), *b = cptr(w[2]);
    uint32_t a_row = w[1] * w[6], b_row = w[3] * w[6];
    uint32_t height = w[4], width = w[5], channels = w[6];
    int32_t a_zp = (int32_t)w[7], b_zp = (int32_t)w[8];
    int32_t ma = (int32_t)w[9], mb = (int32_t)w[10];
    uint32_t shift = w[11];
    int32_t out_zp = (int32_t)w[12];
    uint32_t relu = w[13];
    int8_t *dst = ptr(w[14]);
    uint32_t d_row = w[15] * channels, count = width * channels;
    /* With int8 zero points, |(a - a_zp) * ma + (b - b_zp) * mb| <= 2 * 255 * 2**22 < 2**31:
     * exact in int32, which is faster on the core. */
    const int32_t limit = 1 << 22;
    int narrow = ma >= -limit && ma <= limit && mb >= -limit && mb <= limit && shift <= 31
                 && a_zp >= -128 && a_zp <= 127 && b_zp >= -128 && b_zp <= 127;
    for (uint32_t y = 0; y < height; y++) {
        const int8_t *pa = a + y * a_row, *pb = b + y * b_row;
        int8_t *out = dst + y * d_row;
        for (uint32_t i = 0; i < count; i++) {
            int64_t v;
            if (narrow)
                v = round_shift32((pa[i] - a_zp) * ma + (pb[i] - b_zp) * mb, shift);
            else
                v = round_shift64((int64_t)(pa[i] - a_zp) * ma + (int64_t)(pb[i] - b_zp) * mb,
                                  shift);
            if (relu && v < 0)
                v = 0;
            out[i] = sat8(v + out_zp);
        }
    }
}
