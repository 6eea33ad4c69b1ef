/* matmul.h: tiled int8 matrix multiplication on the accelerator, and a reference on the core.
 *
 * C (m x n, int32, raw accumulator values) = A (m x k, int8) @ B (k x n, int8), all row-major
 * and packed, all in SRAM (the accelerator's DMA reads and writes SRAM byte addresses through
 * the bus arbiter). The tiling is accel/compiler/tiler.py's, for the configuration in accelgen.h:
 *
 *   weight-stationary (ACCEL_DATAFLOW_WS): per output block, for each k tile: load_sp an A block
 *     (tm rows of tk elements) and a B tile (tk rows of tn), preload B, compute (first k tile) or
 *     compute_acc (later ones) into the accumulator; then store_acc the tm x tn block.
 *   output-stationary (ACCEL_DATAFLOW_OS): the same, but A is loaded transposed (load_sp_t) and
 *     tm <= rows output rows are held in the array while k streams.
 *
 * Scratchpad and accumulator slots are double-buffered when they fit, so the hardware can
 * overlap loads of the next tile with the current compute. Every call ends with a fence, so the
 * core may read C as soon as it returns.
 */
#ifndef ACCELGEN_MATMUL_H
#define ACCELGEN_MATMUL_H

#include <stdint.h>

#include "accelgen.h"

/* SRAM byte address of a pointer as the DMA sees it (a host model may redefine it). */
#ifndef ACCEL_DMA_ADDR
#define ACCEL_DMA_ADDR(p) ((uint32_t)(uintptr_t)(p))
#endif

/** How commands reach the accelerator. */
typedef enum {
    ACCEL_PATH_PCPI = 0, /* custom-0 instructions executed by the core (accelgen.h) */
    ACCEL_PATH_MMIO = 1, /* the memory-mapped command port (accel_mmio.h) */
} accel_path_t;

/** One tiling of an m x k @ k x n matmul for this configuration (see matmul_tiling). */
typedef struct {
    uint32_t tm, tk, tn;     /* largest tile along each dimension */
    uint32_t sp_slots;       /* 1 or 2 scratchpad slots (double buffering) */
    uint32_t acc_slots;      /* 1 or 2 accumulator slots */
    uint32_t a_rows;         /* scratchpad rows of one A block: tm (ws) or tk (os) */
    uint32_t slot_rows;      /* scratchpad rows per slot */
    uint32_t acc_slot_rows;  /* accumulator rows per slot */
} matmul_tiling_t;

/** The tile shape accel/compiler/tiler.py's _tile_shape picks; m, k, n >= 1. */
void matmul_tiling(uint32_t m, uint32_t k, uint32_t n, matmul_tiling_t *t);

/**
 * C = A @ B on the accelerator through `path`; returns the accelerator's STATUS word read after
 * the final fence (0 when every command succeeded; test ACCEL_STATUS_ERROR_* otherwise).
 * m, k, n >= 1 and at most 65535; A, B, C must lie in SRAM; C is 4-byte aligned.
 */
uint32_t accel_matmul(const int8_t *a, const int8_t *b, int32_t *c, uint32_t m, uint32_t k,
                      uint32_t n, accel_path_t path);

/** The same product computed by the core (wrapping 32-bit accumulation, like acc_width 32). */
void matmul_ref(const int8_t *a, const int8_t *b, int32_t *c, uint32_t m, uint32_t k,
                uint32_t n);

/** Number of elements of the m x n results that differ. */
uint32_t matmul_mismatches(const int32_t *c, const int32_t *ref, uint32_t m, uint32_t n);

/** 1 when the status word has the sticky error bit set. */
static inline int accel_status_error(uint32_t status)
{
    return (int)((status >> ACCEL_STATUS_ERROR_LSB) & ACCEL_STATUS_ERROR_MASK);
}

/** The error cause (ACCEL_ERR_*) in a status word. */
static inline uint32_t accel_status_cause(uint32_t status)
{
    return (status >> ACCEL_STATUS_CAUSE_LSB) & ACCEL_STATUS_CAUSE_MASK;
}

#endif /* ACCELGEN_MATMUL_H */
