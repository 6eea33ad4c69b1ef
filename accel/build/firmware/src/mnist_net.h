/* mnist_net.h: the interpreter of compiled networks, shared by the apps that run them
 * (apps/mnist.c: batches of images in SRAM; apps/mnist_uart.c: images from the UART).
 *
 * The firmware knows no network. The host (accel/runtime/soc_image.py) places, beside the image,
 * a "blob" (format version 3) at the linker symbol __free_start (the first free byte above .bss):
 *
 *   header   struct mnist_blob (below), little-endian 32-bit words
 *   ...      the compiled network's memory image (weights, biases, buffers) at the absolute
 *            addresses it was compiled for, the pixel table, the step table, the command tables
 *            and the images, all at addresses the header gives
 *
 *   pixels   uint8 pixels (HWC) become the int8 input through lut_addr's 256-byte table:
 *            input[i] = lut[pixel[i]]. When input_shift is 0..7 the table is pixel >> shift and
 *            the firmware may shift four pixels at a time instead (MNIST_LUT_ONLY: the table).
 *   step     variable length: kind, word count n, then n words. MNIST_STEP_ACCEL: record
 *            count, record table address (4-byte aligned), stage count s (< 256), then s pairs
 *            (records, input bytes): the firmware runs each stage's records with one
 *            EXEC_BUFFER as soon as that many input bytes (a multiple of 32, or all) are
 *            quantized, the rest of the records once the whole input is, then issues the
 *            FENCE (the records hold no final fence). The accelerator runs the first stages
 *            while the core quantizes the input for the next.
 *            The host operations (hostops.h): their fields as accel/compiler/hostops.py's
 *            words(): MNIST_STEP_MAXPOOL (MaxPool, 7 words),
 *            MNIST_STEP_MAXPOOL2D (MaxPoolOp, 11), MNIST_STEP_AVGPOOL (AvgPoolOp, 19),
 *            MNIST_STEP_ADD (AddOp, 16). A kind with a wrong word count is an error.
 *   record   3 words: the custom-0 instruction word, rs1, rs2 (EXEC_BUFFER's record,
 *            accel.isa.assembler.records)
 *   output   output_count values of output_bytes each (1: int8, 4: int32) at output_addr
 *   image    input_bytes uint8 pixels (HWC), each image starting on a 4-byte boundary
 */
#ifndef ACCELGEN_MNIST_NET_H
#define ACCELGEN_MNIST_NET_H

#include <stdint.h>

#define MNIST_BLOB_MAGIC 0x54534e4du /* "MNST" */
#define MNIST_BLOB_VERSION 3u
#define MNIST_STEP_ACCEL 0u
#define MNIST_STEP_MAXPOOL 1u
#define MNIST_STEP_MAXPOOL2D 2u
#define MNIST_STEP_AVGPOOL 3u
#define MNIST_STEP_ADD 4u
#define MNIST_LUT_ONLY 0xffffffffu

struct mnist_blob {
    uint32_t magic;
    uint32_t version;
    uint32_t step_count;
    uint32_t steps_addr;
    uint32_t input_addr;
    uint32_t input_height, input_width, input_channels;
    uint32_t input_shift; /* 0..7 when the table is pixel >> shift, else MNIST_LUT_ONLY */
    uint32_t lut_addr;    /* 256 int8 values */
    uint32_t output_addr;
    uint32_t output_count;
    uint32_t output_bytes; /* 1 (int8) or 4 (int32) */
    uint32_t image_count;
    uint32_t images_addr;
    uint32_t first_index; /* printed index of the first image */
};

/* Cycles (SoC timer) of one inference, by phase: "quant" is the time quantizing the input (in
 * pieces, between the first step's stages), "issue" the time in the EXEC_BUFFERs (until the
 * accelerator has dispatched their records), "wait" the time in each step's FENCE: until the
 * accelerator has finished the step. */
struct mnist_timing {
    uint32_t quant, pool, issue, wait; /* pool: every host operation */
};

/* One inference. */
struct mnist_result {
    uint32_t pred;    /* argmax of the output (the first of equal maxima) */
    uint32_t cycles;  /* quantization, every step, the status read and the argmax */
    uint32_t status;  /* the accelerator's STATUS after the last step */
    struct mnist_timing timing;
};

/* The blob the host placed at __free_start. */
const struct mnist_blob *mnist_blob(void);

/* Bytes of one input image (height * width * channels). */
uint32_t mnist_input_bytes(const struct mnist_blob *b);

/* 0 when the header and the step table are sane (known step kinds with their word counts);
 * otherwise prints an "ERROR ..." line and returns -1. */
int mnist_check_blob(const struct mnist_blob *b);

/* Output value i (int8 or int32, sign-extended). */
int32_t mnist_output(const struct mnist_blob *b, uint32_t i);

/* Run the network on uint8 pixels (HWC, 4-byte aligned): quantize them into the input buffer
 * (while the first step's early stages run), run every step (accelerator records by
 * EXEC_BUFFER, host operations on the core), read the status and take the argmax of the output.
 * Returns 0, or -1 after printing an "ERROR ..." line (an unknown step kind); an illegal record
 * shows in the status (and accel_error_index()). */
int mnist_infer(const struct mnist_blob *b, const uint8_t *pixels, struct mnist_result *r);

#endif /* ACCELGEN_MNIST_NET_H */
