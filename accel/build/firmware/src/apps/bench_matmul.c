/* bench_matmul.c: cycles of a firmware-driven 64x64x64 int8 matmul, through PCPI and MMIO.
 *
 * A (64x64 int8) and B (64x64 int8) are filled from a 32-bit LCG with a fixed seed
 * (state = state * 1103515245 + 12345; element = (int8_t)(state >> 16), A first, then B, both
 * row-major); bench/soc_matmul.py replays the same sequence. Each path's C (64x64 int32) is
 * timed with the SoC timer around accel_matmul only, then reduced on the core to a checksum
 *
 *     sum over i, j of C[i][j] * (i * N + j + 1)   (mod 2^32)
 *
 * which the host compares with NumPy's A @ B: the O(n^3) reference is not run on the core (too
 * slow in simulation). C is overwritten with a sentinel before each run, so a path that writes
 * nothing cannot inherit the other path's result. The accelerator's own counters (MACs, DMA
 * bytes, busy cycles) are printed too. Output, one "key=value" per line, then "DONE". */
#include <stdint.h>

#include "accel_mmio.h"
#include "accelgen.h"
#include "matmul.h"
#include "runtime.h"

#define M 64
#define K 64
#define N 64
#define SEED 12345u
#define SENTINEL ((int32_t)0x5a5a5a5a)

static int8_t A[M * K];
static int8_t B[K * N];
static int32_t C[M * N];

static uint32_t lcg_state = SEED;

static int8_t next_int8(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return (int8_t)(lcg_state >> 16);
}

static uint32_t checksum(const int32_t *c)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < M; i++)
        for (uint32_t j = 0; j < N; j++)
            sum += (uint32_t)c[i * N + j] * (i * N + j + 1);
    return sum;
}

static uint32_t counter(accel_path_t path, uint32_t which)
{
    return path == ACCEL_PATH_MMIO ? accel_mmio_read_counter(which) : accel_read_counter(which);
}

static void run(accel_path_t path, const char *name)
{
    for (uint32_t i = 0; i < M * N; i++)
        C[i] = SENTINEL;
    if (path == ACCEL_PATH_MMIO)
        accel_mmio_reset_counters();
    else
        accel_reset_counters();
    uint64_t start = cycles();
    uint32_t status = accel_matmul(A, B, C, M, K, N, path);
    uint64_t elapsed = cycles() - start;
    /* INSTRUCTIONS first: it then counts the program plus accel_matmul's final status read. */
    uint32_t insns = counter(path, ACCEL_COUNTER_INSTRUCTIONS);
    uint32_t busy = counter(path, ACCEL_COUNTER_BUSY_CYCLES);
    uint32_t macs = counter(path, ACCEL_COUNTER_MACS);
    uint32_t load = counter(path, ACCEL_COUNTER_LOAD_BYTES);
    uint32_t store = counter(path, ACCEL_COUNTER_STORE_BYTES);
    uint32_t sum = checksum(C);
    uprintf("%s_cycles=%u\n", name, (uint32_t)elapsed);
    uprintf("%s_status=0x%08x\n", name, status);
    uprintf("%s_macs=%u\n", name, macs);
    uprintf("%s_load_bytes=%u\n", name, load);
    uprintf("%s_store_bytes=%u\n", name, store);
    uprintf("%s_busy_cycles=%u\n", name, busy);
    uprintf("%s_instructions=%u\n", name, insns);
    uprintf("checksum_%s=0x%08x\n", name, sum);
}

int main(void)
{
    leds_write(0x1);
    uprintf("\nbench_matmul: %ux%ux%u int8 on a %ux%u array, SRAM %u KiB\n", (unsigned)M,
            (unsigned)K, (unsigned)N, (unsigned)ACCEL_ROWS, (unsigned)ACCEL_COLS,
            (unsigned)(SOC_SRAM_SIZE / 1024));
    if (accel_status_error(accel_status()))
        accel_clear_error();
    for (uint32_t i = 0; i < M * K; i++)
        A[i] = next_int8();
    for (uint32_t i = 0; i < K * N; i++)
        B[i] = next_int8();
    run(ACCEL_PATH_PCPI, "pcpi");
    leds_write(0x3);
    run(ACCEL_PATH_MMIO, "mmio");
    leds_write(0x7);
    uart_puts("DONE\n");
    return 0;
}
