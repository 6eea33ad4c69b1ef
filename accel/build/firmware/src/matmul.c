/* matmul.c: tiled int8 matmul on the accelerator (PCPI or MMIO path) and on the core. */
#include "matmul.h"

#include "accelgen.h"
#include "accel_mmio.h"

#if ACCEL_IN_BYTES != 1 || ACCEL_ACC_BYTES != 4
#error "matmul.c handles int8 operands and int32 accumulators (input_width 8, acc_width 32)"
#endif
#if !defined(ACCEL_DATAFLOW_WS) && !defined(ACCEL_DATAFLOW_OS)
#error "accelgen.h defines neither ACCEL_DATAFLOW_WS nor ACCEL_DATAFLOW_OS"
#endif

#define MIN(x, y) ((x) < (y) ? (x) : (y))

void matmul_tiling(uint32_t m, uint32_t k, uint32_t n, matmul_tiling_t *t)
{
    /* Mirrors accel/compiler/tiler.py:_tile_shape. */
    t->tn = MIN((uint32_t)ACCEL_TILE_N_MAX, n);
#if defined(ACCEL_DATAFLOW_WS)
    /* B tiles (tk <= rows, tn <= cols) stay in the array; up to 256 A rows stream. A slot holds
     * an A block (tm rows) and a B tile (tk rows). */
    t->tk = MIN((uint32_t)ACCEL_TILE_K_MAX, k);
    t->sp_slots = ACCEL_SP_ROWS >= 2 * (t->tk + 1) ? 2 : 1;
    t->acc_slots = ACCEL_ACC_ROWS >= 2 ? 2 : 1;
    t->tm = MIN(MIN((uint32_t)ACCEL_TILE_M_MAX, m),
                MIN(ACCEL_SP_ROWS / t->sp_slots - t->tk, ACCEL_ACC_ROWS / t->acc_slots));
    t->a_rows = t->tm;
#else
    /* C tiles (tm <= rows, tn <= cols) stay in the array; k streams. A slot holds A^T (tk rows)
     * and B (tk rows). */
    t->tm = MIN((uint32_t)ACCEL_TILE_M_MAX, m);
    t->sp_slots = ACCEL_SP_ROWS >= 4 ? 2 : 1;
    t->tk = MIN(MIN((uint32_t)ACCEL_TILE_K_MAX, k), ACCEL_SP_ROWS / t->sp_slots / 2);
    t->acc_slots = ACCEL_ACC_ROWS >= 2 * t->tm ? 2 : 1;
    t->a_rows = t->tk;
#endif
    t->slot_rows = ACCEL_SP_ROWS / t->sp_slots;
    t->acc_slot_rows = ACCEL_ACC_ROWS / t->acc_slots;
}

#define MATMUL_TILED matmul_tiled_pcpi
#define OP(name) accel_##name
#include "matmul_tiles.inc"
#undef MATMUL_TILED
#undef OP

#define MATMUL_TILED matmul_tiled_mmio
#define OP(name) accel_mmio_##name
#include "matmul_tiles.inc"
#undef MATMUL_TILED
#undef OP

uint32_t accel_matmul(const int8_t *a, const int8_t *b, int32_t *c, uint32_t m, uint32_t k,
                      uint32_t n, accel_path_t path)
{
    if (path == ACCEL_PATH_MMIO)
        return matmul_tiled_mmio(a, b, c, m, k, n);
    return matmul_tiled_pcpi(a, b, c, m, k, n);
}

void matmul_ref(const int8_t *a, const int8_t *b, int32_t *c, uint32_t m, uint32_t k,
                uint32_t n)
{
    for (uint32_t i = 0; i < m; i++) {
        for (uint32_t j = 0; j < n; j++) {
            uint32_t sum = 0;  /* unsigned: wraps like the accumulator, no C overflow */
            for (uint32_t kk = 0; kk < k; kk++)
                sum += (uint32_t)((int32_t)a[i * k + kk] * (int32_t)b[kk * n + j]);
            c[i * n + j] = (int32_t)sum;
        }
    }
}

uint32_t matmul_mismatches(const int32_t *c, const int32_t *ref, uint32_t m, uint32_t n)
{
    uint32_t wrong = 0;
    for (uint32_t i = 0; i < m * n; i++)
        wrong += c[i] != ref[i];
    return wrong;
}
