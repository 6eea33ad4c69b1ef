/* host_matmul_test.c: run firmware/matmul.c on the host against the C model in host/accelgen.h.
 *
 * Usage: host_matmul_test [seed]. For many shapes (edge tiles, 1-wide, larger than every
 * buffer), on both command paths, checks C == matmul_ref, no model error, MACs == m*k*n, and the
 * memory around C untouched. Prints one line per failure and "ok <cases>" at the end; exit 0. */
#include <stdio.h>
#include <stdlib.h>

#include "accelgen.h"
#include "accel_mmio.h"
#include "matmul.h"

uint8_t host_mem[HOST_MEM_BYTES];
host_accel_t host_accel;
unsigned long host_mmio_commands;

static uint32_t rng_state;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static int run_case(uint32_t m, uint32_t k, uint32_t n, accel_path_t path)
{
    /* A, B and C at odd offsets inside host_mem, guard bytes around C. */
    uint32_t a_off = 3, b_off = a_off + m * k + 5, c_off = (b_off + k * n + 64 + 3) & ~3u;
    uint32_t end = c_off + 4 * m * n;
    if (end + 64 > HOST_MEM_BYTES) {
        printf("case %ux%ux%u too big for host_mem\n", m, k, n);
        return 1;
    }
    memset(host_mem, 0xa5, end + 64);
    memset(&host_accel, 0, sizeof host_accel);
    host_mmio_commands = 0;
    int8_t *a = (int8_t *)&host_mem[a_off], *b = (int8_t *)&host_mem[b_off];
    int32_t *c = (int32_t *)&host_mem[c_off];
    for (uint32_t i = 0; i < m * k; i++)
        a[i] = (int8_t)rng();
    for (uint32_t i = 0; i < k * n; i++)
        b[i] = (int8_t)rng();
    if (m * k > 1) { a[0] = -128; a[1] = -128; }
    if (k * n > 1) { b[0] = -128; b[1] = 127; }
    int32_t *ref = malloc(4u * m * n);
    matmul_ref(a, b, ref, m, k, n);
    uint32_t status = accel_matmul(a, b, c, m, k, n, path);
    int bad = 0;
    if (status != 0 || host_accel.error) {
        printf("FAIL %ux%ux%u path %d: status 0x%08x (%s)\n", m, k, n, (int)path, status,
               host_accel.why ? host_accel.why : "?");
        bad = 1;
    }
    uint32_t wrong = matmul_mismatches(c, ref, m, n);
    if (wrong) {
        printf("FAIL %ux%ux%u path %d: %u wrong\n", m, k, n, (int)path, wrong);
        bad = 1;
    }
    if (host_accel.macs != (uint64_t)m * k * n) {
        printf("FAIL %ux%ux%u: %llu MACs\n", m, k, n, (unsigned long long)host_accel.macs);
        bad = 1;
    }
    for (uint32_t i = end; i < end + 64; i++)
        if (host_mem[i] != 0xa5) {
            printf("FAIL %ux%ux%u: wrote past C\n", m, k, n);
            bad = 1;
            break;
        }
    if (c_off >= 1 && host_mem[c_off - 1] != 0xa5) {
        printf("FAIL %ux%ux%u: wrote before C\n", m, k, n);
        bad = 1;
    }
    if ((path == ACCEL_PATH_MMIO) != (host_mmio_commands > 0)) {
        printf("FAIL %ux%ux%u: path %d used %lu MMIO commands\n", m, k, n, (int)path,
               host_mmio_commands);
        bad = 1;
    }
    free(ref);
    return bad;
}

int main(int argc, char **argv)
{
    rng_state = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1u;
    if (!rng_state)
        rng_state = 1;
    static const uint32_t shapes[][3] = {
        {1, 1, 1}, {1, 7, 1}, {7, 1, 9}, {ACCEL_ROWS, ACCEL_ROWS, ACCEL_COLS},
        {ACCEL_ROWS + 1, ACCEL_ROWS + 1, ACCEL_COLS + 1}, {21, 19, 13}, {3, 40, 2},
        {64, 64, 64}, {300, 5, 3}, {2, 300, 5}, {257, 17, 9}, {33, 1, 70},
        {ACCEL_SP_ROWS + 3, 3, 2}, {3, ACCEL_SP_ROWS + 5, 3}, {ACCEL_ACC_ROWS + 7, 2, 2},
    };
    int failures = 0, cases = 0;
    for (unsigned s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int path = 0; path < 2; path++) {
            failures += run_case(shapes[s][0], shapes[s][1], shapes[s][2], (accel_path_t)path);
            cases++;
        }
    }
    for (int r = 0; r < 40; r++) {
        uint32_t m = 1 + rng() % 50, k = 1 + rng() % 50, n = 1 + rng() % 50;
        failures += run_case(m, k, n, (accel_path_t)(r & 1));
        cases++;
    }
    if (failures) {
        printf("%d of %d cases failed\n", failures, cases);
        return 1;
    }
    printf("ok %d\n", cases);
    return 0;
}
