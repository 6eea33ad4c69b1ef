/* host_ops_test.c: run firmware/hostops.c on the host, for tests/build/firmware/test_hostops_c.py.
 *
 * Reads records from stdin until its end, each little-endian uint32 words: the step kind
 * (mnist_net.h's MNIST_STEP_*), the word count n, the memory size m, the operation's n words,
 * then m bytes of memory. Applies the operation to that memory (its addresses index it) and
 * writes the m bytes back to stdout. Exit 0; 2 on a malformed record. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "hostops.h"
#include "mnist_net.h"

#define MAX_MEM (1u << 20)
#define MAX_WORDS 64u

uint8_t host_ops_mem[MAX_MEM] __attribute__((aligned(16)));

static int read_words(uint32_t *w, uint32_t n)
{
    return fread(w, 4, n, stdin) == n ? 0 : -1;
}

int main(void)
{
    uint32_t head[3], words[MAX_WORDS];
    while (fread(head, 4, 3, stdin) == 3) {
        uint32_t kind = head[0], n = head[1], m = head[2];
        if (n > MAX_WORDS || m > MAX_MEM || read_words(words, n)
            || fread(host_ops_mem, 1, m, stdin) != m) {
            fprintf(stderr, "malformed record\n");
            return 2;
        }
        switch (kind) {
        case MNIST_STEP_MAXPOOL: hostop_maxpool_v1(words); break;
        case MNIST_STEP_MAXPOOL2D: hostop_maxpool(words); break;
        case MNIST_STEP_AVGPOOL: hostop_avgpool(words); break;
        case MNIST_STEP_ADD: hostop_add(words); break;
        default:
            fprintf(stderr, "unknown kind %u\n", kind);
            return 2;
        }
        fwrite(host_ops_mem, 1, m, stdout);
    }
    return 0;
}
