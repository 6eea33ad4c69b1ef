/* mnist_net.h: the interpreter of compiled networks, shared by the apps that run them
 * (apps/mnist.c: batches of images in SRAM; apps/mnist_uart.c: images from the UART).
 *
 * The firmware knows no network. The host (accel/runtime/soc_image.py) places, beside the image,
 * a "blob" at the linker symbol __free_start (the first free byte above .bss):
 *
 *   header   struct mnist_blob (below), little-endian 32-bit words
 *   ...      the compiled network's memory image (weights, biases, buffers) at the absolute
 *            addresses it was compiled for, the step table, the command table and the images,
 *            all at addresses the header gives
 *
 *   step     8 words: kind, then for MNIST_STEP_ACCEL: command count, command table address;
 *            for MNIST_STEP_MAXPOOL: src, pitch, height, width, channels, size, dst (exactly
 *            accel/compiler/hostops.py MaxPool's fields, in that order)
 *   command  3 words: funct7 << 3 | funct3, rs1, rs2 (accel.isa.encoding.Command)
 *   image    input_bytes uint8 pixels (HWC), each image starting on a 4-byte boundary
 */
#ifndef ACCELGEN_MNIST_NET_H
#define ACCELGEN_MNIST_NET_H

#include <stdint.h>

#define MNIST_BLOB_MAGIC 0x54534e4du /* "MNST" */
#define MNIST_BLOB_VERSION 1u
#define MNIST_STEP_ACCEL 0u
#define MNIST_STEP_MAXPOOL 1u

struct mnist_blob {
    uint32_t magic;
    uint32_t version;
    uint32_t step_count;
    uint32_t steps_addr;
    uint32_t input_addr;
    uint32_t input_shift;
    uint32_t input_height, input_width, input_channels;
    uint32_t logits_addr;
    uint32_t classes;
    uint32_t image_count;
    uint32_t images_addr;
    uint32_t first_index; /* printed index of the first image */
};

struct mnist_step {
    uint32_t kind;
    uint32_t args[7];
};

struct mnist_command {
    uint32_t code;
    uint32_t rs1, rs2;
};

/* Cycles (SoC timer) of one inference, by phase: "issue" is the time spent issuing commands
 * other than each step's final fence (it includes stalls while the accelerator's command queue
 * is full), "wait" the time in those fences: until the accelerator has finished the step. */
struct mnist_timing {
    uint32_t quant, pool, issue, wait;
};

/* One inference. */
struct mnist_result {
    uint32_t pred;    /* argmax of the logits (the first of equal maxima) */
    uint32_t cycles;  /* quantization, every step, the status read and the argmax */
    uint32_t status;  /* the accelerator's STATUS after the last step */
    struct mnist_timing timing;
};

/* The blob the host placed at __free_start. */
const struct mnist_blob *mnist_blob(void);

/* Bytes of one input image (height * width * channels). */
uint32_t mnist_input_bytes(const struct mnist_blob *b);

/* 0 when the header is sane; otherwise prints an "ERROR ..." line and returns -1. */
int mnist_check_blob(const struct mnist_blob *b);

/* Run the network on uint8 pixels (HWC, 4-byte aligned): quantize them into the input buffer,
 * run every step (accelerator commands through PCPI, max pooling on the core), read the status
 * and take the argmax of the logits (at b->logits_addr, b->classes int32 values). Returns 0, or
 * -1 after printing an "ERROR ..." line (an unknown step kind or command). */
int mnist_infer(const struct mnist_blob *b, const uint8_t *pixels, struct mnist_result *r);

#endif /* ACCELGEN_MNIST_NET_H */
