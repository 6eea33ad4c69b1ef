/* hostops.h: the control core's host operations on int8 HWC tensors in SRAM, the C twins of
 * accel/compiler/hostops.py (bit-exact: tests/build/firmware/test_hostops_c.py runs both on the
 * same memory).
 *
 * Every operation takes its fields as the uint32 words of the Python class's words(), in the
 * declared order (signed values two's complement). A tensor view is int8 HWC: pixel (y, x),
 * channel c is the byte at addr + (y * pitch + x) * channels + c (pitch >= width, in pixels).
 *
 *   round_shift(p, 0) = p, round_shift(p, s) = (p >> s) + ((p >> (s - 1)) & 1) (arithmetic
 *   shifts on int64); sat8 clamps to -128..127.
 *
 * The operations need no accelerator and no libc: the host build compiles this file alone. */
#ifndef ACCELGEN_HOSTOPS_H
#define ACCELGEN_HOSTOPS_H

#include <stdint.h>

/* Word counts of each operation's fields. */
#define HOSTOP_MAXPOOL_V1_WORDS 7u
#define HOSTOP_MAXPOOL_WORDS 11u
#define HOSTOP_AVGPOOL_WORDS 19u
#define HOSTOP_ADD_WORDS 16u

/* hostops.MaxPool (the native networks' pooling): src, pitch, height, width, channels, size,
 * dst. Windows size x size at stride size; a packed (height / size, width / size) result. */
void hostop_maxpool_v1(const uint32_t *w);

/* hostops.MaxPoolOp: src, src_pitch, height, width, channels, kernel_h, kernel_w, stride_h,
 * stride_w, dst, dst_pitch. The source view already includes any padding (filled with -128).
 * Output ((height - kernel_h) / stride_h + 1, (width - kernel_w) / stride_w + 1). */
void hostop_maxpool(const uint32_t *w);

/* hostops.AvgPoolOp: src, src_pitch, height, width, channels, kernel_h, kernel_w, stride_h,
 * stride_w, pad_top, pad_left, pad_bottom, pad_right, count_include_pad, in_zero_point,
 * out_zero_point, table, dst, dst_pitch. Windows over the unpadded source start at
 * (y * stride_h - pad_top, x * stride_w - pad_left); sum of (x - in_zero_point) over the
 * window's pixels inside the source; n = kernel_h * kernel_w with count_include_pad, else the
 * count of those pixels; table holds (multiplier, shift) word pairs for n = 1..kh * kw;
 * dst = sat8(round_shift(sum * multiplier[n - 1], shift[n - 1]) + out_zero_point). */
void hostop_avgpool(const uint32_t *w);

/* hostops.AddOp: a, a_pitch, b, b_pitch, height, width, channels, a_zero_point, b_zero_point,
 * multiplier_a, multiplier_b, shift, out_zero_point, relu, dst, dst_pitch.
 * dst = sat8(relu?(round_shift((a - a_zp) * multiplier_a + (b - b_zp) * multiplier_b, shift))
 * + out_zero_point). */
void hostop_add(const uint32_t *w);

#endif /* ACCELGEN_HOSTOPS_H */
