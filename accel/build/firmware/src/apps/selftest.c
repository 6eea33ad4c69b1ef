/* selftest.c: the SoC bring-up test. Prints over the UART and ends with a "PASS" or "FAIL" line.
 *
 * 1. A matmul whose shape leaves partial tiles in every dimension, on the accelerator through
 *    PCPI custom-0 instructions and again through the MMIO command port, each checked against
 *    the core's own reference and the MACS counter, with cycle counts.
 * 2. The sticky error: an unknown instruction (funct7 0x7f) through each path, then STATUS
 *    (error bit, cause ILLEGAL_INSTRUCTION, funct7/funct3 of the culprit), then CLEAR_ERROR.
 * LEDs: 0x1 started, 0x3 PCPI matmul done, 0x7 MMIO matmul done, then 0xf PASS or 0x5 FAIL.
 * main returns 0 on PASS, 1 on FAIL (start.S leaves it in a0). */
#include <stdint.h>

#include "accel_mmio.h"
#include "accelgen.h"
#include "matmul.h"
#include "runtime.h"

#define M 21
#define K 19
#define N 13
#define SENTINEL ((int32_t)0x5a5a5a5a)
#define BAD_FUNCT7 0x7f
#define BAD_FUNCT3 5

static int8_t A[M * K];
static int8_t B[K * N];
static int32_t C_ref[M * N];
static int32_t C_acc[M * N];

static uint32_t failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        failures++;
        uprintf("  FAILED: %s\n", what);
    }
}

static uint32_t lcg_state = 12345u;

static int8_t next_int8(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return (int8_t)(lcg_state >> 16);
}

static uint32_t status_of(accel_path_t path)
{
    return path == ACCEL_PATH_MMIO ? accel_mmio_status() : accel_status();
}

static uint32_t macs_of(accel_path_t path)
{
    return path == ACCEL_PATH_MMIO ? accel_mmio_read_counter(ACCEL_COUNTER_MACS)
                                   : accel_read_counter(ACCEL_COUNTER_MACS);
}

static void run_matmul(accel_path_t path, const char *name)
{
    for (uint32_t i = 0; i < M * N; i++)
        C_acc[i] = SENTINEL;
    if (path == ACCEL_PATH_MMIO)
        accel_mmio_reset_counters();
    else
        accel_reset_counters();
    uint64_t start = cycles();
    uint32_t status = accel_matmul(A, B, C_acc, M, K, N, path);
    uint64_t elapsed = cycles() - start;
    uint32_t wrong = matmul_mismatches(C_acc, C_ref, M, N);
    uint32_t macs = macs_of(path);
    uprintf("%s: %ux%ux%u status 0x%08x, %u of %u wrong, %u MACs, %u cycles\n", name,
            (unsigned)M, (unsigned)K, (unsigned)N, status, wrong, (unsigned)(M * N), macs,
            (uint32_t)elapsed);
    check(!accel_status_error(status), "no accelerator error after the matmul");
    check(wrong == 0, "result equals the core's reference");
    check(macs == (uint32_t)(M * K * N), "MACS counter equals m*k*n");
    if (wrong) {
        for (uint32_t i = 0; i < M * N; i++) {
            if (C_acc[i] != C_ref[i]) {
                uprintf("  first mismatch at [%u][%u]: %d, expected %d\n", i / N, i % N,
                        C_acc[i], C_ref[i]);
                break;
            }
        }
    }
}

static void run_error(accel_path_t path, const char *name)
{
    uint32_t before = status_of(path);
    check(!accel_status_error(before), "no error before the illegal instruction");
    if (path == ACCEL_PATH_MMIO) {
        accel_mmio_issue(BAD_FUNCT7, BAD_FUNCT3, 0, 0);
    } else {
        __asm__ volatile (".insn r " ACCEL_STR(ACCEL_CUSTOM0) ", " ACCEL_STR(BAD_FUNCT3) ", "
                          ACCEL_STR(BAD_FUNCT7) ", x0, x0, x0" : : : "memory");
    }
    uint32_t status = status_of(path);
    uint32_t f7 = (status >> ACCEL_STATUS_ERR_FUNCT7_LSB) & ACCEL_STATUS_ERR_FUNCT7_MASK;
    uint32_t f3 = (status >> ACCEL_STATUS_ERR_FUNCT3_LSB) & ACCEL_STATUS_ERR_FUNCT3_MASK;
    if (path == ACCEL_PATH_MMIO)
        accel_mmio_clear_error();
    else
        accel_clear_error();
    uint32_t after = status_of(path);
    uprintf("%s: illegal instruction -> status 0x%08x (cause %u, funct7 0x%02x, funct3 %u), "
            "after clear_error 0x%08x\n", name, status, accel_status_cause(status), f7, f3,
            after);
    check(accel_status_error(status), "error bit set by the illegal instruction");
    check(accel_status_cause(status) == ACCEL_ERR_ILLEGAL_INSTRUCTION,
          "cause is ILLEGAL_INSTRUCTION");
    check(f7 == BAD_FUNCT7 && f3 == BAD_FUNCT3, "status names the culprit's funct7/funct3");
    check(!accel_status_error(after) && accel_status_cause(after) == ACCEL_ERR_NONE,
          "clear_error clears the error");
}

int main(void)
{
    leds_write(0x1);
    uprintf("\naccelgen selftest: %ux%u %s array, ISA %s, SRAM %u KiB\n",
            (unsigned)ACCEL_ROWS, (unsigned)ACCEL_COLS,
#if defined(ACCEL_DATAFLOW_WS)
            "weight-stationary",
#else
            "output-stationary",
#endif
            ACCEL_ISA_VERSION, (unsigned)(SOC_SRAM_SIZE / 1024));

    uint32_t status = accel_status();
    if (accel_status_error(status)) {
        uprintf("error set at reset (status 0x%08x); clearing it\n", status);
        failures++;
        accel_clear_error();
    }

    for (uint32_t i = 0; i < M * K; i++)
        A[i] = next_int8();
    for (uint32_t i = 0; i < K * N; i++)
        B[i] = next_int8();
    A[0] = -128;  /* extremes */
    B[0] = -128;
    A[1] = 127;
    B[N] = 127;

    uint64_t start = cycles();
    matmul_ref(A, B, C_ref, M, K, N);
    uprintf("core reference: %u cycles\n", (uint32_t)(cycles() - start));

    run_matmul(ACCEL_PATH_PCPI, "pcpi");
    leds_write(0x3);
    run_matmul(ACCEL_PATH_MMIO, "mmio");
    leds_write(0x7);
    run_error(ACCEL_PATH_PCPI, "pcpi");
    run_error(ACCEL_PATH_MMIO, "mmio");

    if (failures) {
        uprintf("%u check(s) failed\n", failures);
        leds_write(0x5);
        uart_puts("FAIL\n");
        return 1;
    }
    leds_write(0xf);
    uart_puts("PASS\n");
    return 0;
}
