/* host/accelgen.h: a C model of the accelerator for checking matmul.c on the HOST.
 *
 * Replaces the generated accelgen.h when firmware/host comes first on the include path. The
 * configuration macros (ACCEL_ROWS ... field macros) come from accel_config.h, which is the
 * generated accelgen.h without its inline-asm wrappers (tests/firmware writes it). Every
 * accel_<name>() here packs its operands with the generated field macros, unpacks them again and
 * executes the golden semantics (accel/isa/spec.py) on a scratchpad, an accumulator and a
 * main memory (host_mem; DMA addresses are offsets into it). Any illegal operand sets the sticky
 * error exactly like the golden model, so a tiling that breaks a limit is caught. */
#ifndef ACCELGEN_H
#define ACCELGEN_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "accel_config.h"

#ifndef HOST_MEM_BYTES
#define HOST_MEM_BYTES (1u << 20)
#endif

extern uint8_t host_mem[HOST_MEM_BYTES];
#define ACCEL_DMA_ADDR(p) ((uint32_t)((const uint8_t *)(p) - host_mem))

typedef struct {
    int8_t sp[ACCEL_SP_ROWS][ACCEL_DIM];
    int32_t acc[ACCEL_ACC_ROWS][ACCEL_COLS];
    uint32_t load_stride, store_stride;
    int weights;
    uint32_t b_addr, k, n;
    uint32_t error, cause, funct7, funct3;
    uint64_t macs, instructions, commands[32];
    const char *why;
} host_accel_t;

extern host_accel_t host_accel;

static inline uint32_t host_field(uint32_t reg, unsigned lsb, unsigned width, unsigned offset)
{
    uint32_t mask = width == 32 ? 0xffffffffu : ((1u << width) - 1u);
    return ((reg >> lsb) & mask) + offset;
}

#define HF(ins, fld, reg, off) host_field(reg, ACCEL_##ins##_##fld##_LSB, \
                                          ACCEL_##ins##_##fld##_WIDTH, off)

/* Returns 1 when the instruction may execute (no sticky error); counts it. */
static inline int host_begin(uint32_t funct7)
{
    host_accel.commands[funct7 & 31]++;
    return !host_accel.error;
}

static inline void host_fail(uint32_t cause, uint32_t funct7, uint32_t funct3, const char *why)
{
    if (!host_accel.error) {
        host_accel.error = 1;
        host_accel.cause = cause;
        host_accel.funct7 = funct7;
        host_accel.funct3 = funct3;
        host_accel.why = why;
    }
}

#define HOST_REQUIRE(cond, cause, ins)                                                   \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            host_fail(cause, ACCEL_##ins##_FUNCT7, ACCEL_##ins##_FUNCT3, #ins ": " #cond); \
            return;                                                                      \
        }                                                                                \
    } while (0)

static inline void accel_config_load(uint32_t stride)
{
    if (!host_begin(ACCEL_CONFIG_LOAD_FUNCT7)) return;
    host_accel.load_stride = HF(CONFIG_LOAD, STRIDE, ACCEL_CONFIG_LOAD_STRIDE(stride), 0);
    host_accel.instructions++;
}

static inline void accel_config_store(uint32_t stride)
{
    if (!host_begin(ACCEL_CONFIG_STORE_FUNCT7)) return;
    host_accel.store_stride = HF(CONFIG_STORE, STRIDE, ACCEL_CONFIG_STORE_STRIDE(stride), 0);
    host_accel.instructions++;
}

static inline void accel_load_sp(uint32_t mem_addr, uint32_t sp_addr, uint32_t rows,
                                 uint32_t cols)
{
    if (!host_begin(ACCEL_LOAD_SP_FUNCT7)) return;
    uint32_t rs2 = ACCEL_LOAD_SP_SP_ADDR(sp_addr) | ACCEL_LOAD_SP_ROWS(rows)
                   | ACCEL_LOAD_SP_COLS(cols);
    uint32_t mem = HF(LOAD_SP, MEM_ADDR, ACCEL_LOAD_SP_MEM_ADDR(mem_addr), 0);
    uint32_t sp = HF(LOAD_SP, SP_ADDR, rs2, 0), r = HF(LOAD_SP, ROWS, rs2, 1);
    uint32_t c = HF(LOAD_SP, COLS, rs2, 1);
    HOST_REQUIRE(sp == sp_addr && r == rows && c == cols, ACCEL_ERR_SHAPE, LOAD_SP);
    HOST_REQUIRE(c <= ACCEL_DIM, ACCEL_ERR_SHAPE, LOAD_SP);
    HOST_REQUIRE(sp + r <= ACCEL_SP_ROWS, ACCEL_ERR_SP_RANGE, LOAD_SP);
    HOST_REQUIRE((uint64_t)mem + (uint64_t)(r - 1) * host_accel.load_stride + c
                 <= HOST_MEM_BYTES, ACCEL_ERR_MEM_RANGE, LOAD_SP);
    for (uint32_t i = 0; i < r; i++)
        for (uint32_t j = 0; j < c; j++)
            host_accel.sp[sp + i][j] = (int8_t)host_mem[mem + i * host_accel.load_stride + j];
    host_accel.instructions++;
}

static inline void accel_load_sp_t(uint32_t mem_addr, uint32_t sp_addr, uint32_t rows,
                                   uint32_t cols)
{
    if (!host_begin(ACCEL_LOAD_SP_T_FUNCT7)) return;
    uint32_t rs2 = ACCEL_LOAD_SP_T_SP_ADDR(sp_addr) | ACCEL_LOAD_SP_T_ROWS(rows)
                   | ACCEL_LOAD_SP_T_COLS(cols);
    uint32_t mem = HF(LOAD_SP_T, MEM_ADDR, ACCEL_LOAD_SP_T_MEM_ADDR(mem_addr), 0);
    uint32_t sp = HF(LOAD_SP_T, SP_ADDR, rs2, 0), r = HF(LOAD_SP_T, ROWS, rs2, 1);
    uint32_t c = HF(LOAD_SP_T, COLS, rs2, 1);
    HOST_REQUIRE(sp == sp_addr && r == rows && c == cols, ACCEL_ERR_SHAPE, LOAD_SP_T);
    HOST_REQUIRE(r <= ACCEL_DIM, ACCEL_ERR_SHAPE, LOAD_SP_T);
    HOST_REQUIRE(sp + c <= ACCEL_SP_ROWS, ACCEL_ERR_SP_RANGE, LOAD_SP_T);
    HOST_REQUIRE((uint64_t)mem + (uint64_t)(r - 1) * host_accel.load_stride + c
                 <= HOST_MEM_BYTES, ACCEL_ERR_MEM_RANGE, LOAD_SP_T);
    for (uint32_t i = 0; i < r; i++)
        for (uint32_t j = 0; j < c; j++)
            host_accel.sp[sp + j][i] = (int8_t)host_mem[mem + i * host_accel.load_stride + j];
    host_accel.instructions++;
}

static inline void accel_store_acc(uint32_t mem_addr, uint32_t acc_addr, uint32_t rows,
                                   uint32_t cols)
{
    if (!host_begin(ACCEL_STORE_ACC_FUNCT7)) return;
    uint32_t rs2 = ACCEL_STORE_ACC_ACC_ADDR(acc_addr) | ACCEL_STORE_ACC_ROWS(rows)
                   | ACCEL_STORE_ACC_COLS(cols);
    uint32_t mem = HF(STORE_ACC, MEM_ADDR, ACCEL_STORE_ACC_MEM_ADDR(mem_addr), 0);
    uint32_t a = HF(STORE_ACC, ACC_ADDR, rs2, 0), r = HF(STORE_ACC, ROWS, rs2, 1);
    uint32_t c = HF(STORE_ACC, COLS, rs2, 1);
    HOST_REQUIRE(a == acc_addr && r == rows && c == cols, ACCEL_ERR_SHAPE, STORE_ACC);
    HOST_REQUIRE(c <= ACCEL_COLS, ACCEL_ERR_SHAPE, STORE_ACC);
    HOST_REQUIRE(a + r <= ACCEL_ACC_ROWS, ACCEL_ERR_ACC_RANGE, STORE_ACC);
    HOST_REQUIRE((uint64_t)mem + (uint64_t)(r - 1) * host_accel.store_stride + 4 * c
                 <= HOST_MEM_BYTES, ACCEL_ERR_MEM_RANGE, STORE_ACC);
    for (uint32_t i = 0; i < r; i++)
        for (uint32_t j = 0; j < c; j++)
            memcpy(&host_mem[mem + i * host_accel.store_stride + 4 * j],
                   &host_accel.acc[a + i][j], 4);
    host_accel.instructions++;
}

static inline void accel_preload(uint32_t b_addr, uint32_t k, uint32_t n)
{
    if (!host_begin(ACCEL_PRELOAD_FUNCT7)) return;
    uint32_t rs1 = ACCEL_PRELOAD_B_ADDR(b_addr) | ACCEL_PRELOAD_K(k) | ACCEL_PRELOAD_N(n);
    uint32_t b = HF(PRELOAD, B_ADDR, rs1, 0), kk = HF(PRELOAD, K, rs1, 1);
    uint32_t nn = HF(PRELOAD, N, rs1, 1);
    HOST_REQUIRE(b == b_addr && kk == k && nn == n, ACCEL_ERR_SHAPE, PRELOAD);
    HOST_REQUIRE(kk <= ACCEL_TILE_K_MAX && nn <= ACCEL_COLS, ACCEL_ERR_SHAPE, PRELOAD);
    HOST_REQUIRE(b + kk <= ACCEL_SP_ROWS, ACCEL_ERR_SP_RANGE, PRELOAD);
    host_accel.weights = 1;
    host_accel.b_addr = b;
    host_accel.k = kk;
    host_accel.n = nn;
    host_accel.instructions++;
}

static inline void host_compute(uint32_t a_addr, uint32_t m, uint32_t c_addr, int accumulate)
{
    if (!host_begin(ACCEL_COMPUTE_FUNCT7)) return;
    uint32_t rs1 = ACCEL_COMPUTE_A_ADDR(a_addr) | ACCEL_COMPUTE_M(m);
    uint32_t a = HF(COMPUTE, A_ADDR, rs1, 0), mm = HF(COMPUTE, M, rs1, 1);
    uint32_t c = HF(COMPUTE, C_ADDR, ACCEL_COMPUTE_C_ADDR(c_addr), 0);
    HOST_REQUIRE(a == a_addr && mm == m && c == c_addr, ACCEL_ERR_SHAPE, COMPUTE);
    HOST_REQUIRE(host_accel.weights, ACCEL_ERR_NO_WEIGHTS, COMPUTE);
    uint32_t k = host_accel.k, n = host_accel.n, b = host_accel.b_addr;
#if defined(ACCEL_DATAFLOW_WS)
    HOST_REQUIRE(mm <= ACCEL_TILE_M_MAX, ACCEL_ERR_SHAPE, COMPUTE);
    HOST_REQUIRE(a + mm <= ACCEL_SP_ROWS, ACCEL_ERR_SP_RANGE, COMPUTE);
#else
    HOST_REQUIRE(mm <= ACCEL_ROWS, ACCEL_ERR_SHAPE, COMPUTE);
    HOST_REQUIRE(a + k <= ACCEL_SP_ROWS, ACCEL_ERR_SP_RANGE, COMPUTE);
#endif
    HOST_REQUIRE(c + mm <= ACCEL_ACC_ROWS, ACCEL_ERR_ACC_RANGE, COMPUTE);
    for (uint32_t i = 0; i < mm; i++) {
        for (uint32_t j = 0; j < n; j++) {
            uint32_t sum = accumulate ? (uint32_t)host_accel.acc[c + i][j] : 0u;
            for (uint32_t kk = 0; kk < k; kk++) {
#if defined(ACCEL_DATAFLOW_WS)
                int32_t av = host_accel.sp[a + i][kk];
#else
                int32_t av = host_accel.sp[a + kk][i];
#endif
                sum += (uint32_t)(av * (int32_t)host_accel.sp[b + kk][j]);
            }
            host_accel.acc[c + i][j] = (int32_t)sum;
        }
    }
    host_accel.macs += (uint64_t)mm * k * n;
    host_accel.instructions++;
}

static inline void accel_compute(uint32_t a_addr, uint32_t m, uint32_t c_addr)
{
    host_compute(a_addr, m, c_addr, 0);
}

static inline void accel_compute_acc(uint32_t a_addr, uint32_t m, uint32_t c_addr)
{
    host_compute(a_addr, m, c_addr, 1);
}

static inline void accel_fence(void)
{
    host_accel.commands[ACCEL_FENCE_FUNCT7 & 31]++;
    if (!host_accel.error)
        host_accel.instructions++;
}

static inline uint32_t accel_status(void)
{
    host_accel.commands[ACCEL_STATUS_FUNCT7 & 31]++;
    return (host_accel.error << ACCEL_STATUS_ERROR_LSB)
           | (host_accel.cause << ACCEL_STATUS_CAUSE_LSB)
           | (host_accel.funct7 << ACCEL_STATUS_ERR_FUNCT7_LSB)
           | (host_accel.funct3 << ACCEL_STATUS_ERR_FUNCT3_LSB);
}

static inline void accel_clear_error(void)
{
    host_accel.error = host_accel.cause = host_accel.funct7 = host_accel.funct3 = 0;
}

#endif /* ACCELGEN_H */
