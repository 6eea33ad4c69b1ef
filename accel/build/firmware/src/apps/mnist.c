/* mnist.c: run a compiled network (accel/nn/compiler.py) on a batch of images.
 *
 * The firmware knows no network: the host (accel/runtime/network_soc.py) loads, beside this image,
 * the blob mnist_net.h describes (accel/runtime/soc_image.py writes it), and mnist_net.c
 * interprets it.
 *
 * For each image it times, with the SoC timer, the quantization (the blob's pixel table into
 * input_addr), the steps (each accelerator step's records run by one EXEC_BUFFER custom-0
 * instruction, then a FENCE, through accelgen.h's wrappers; pooling and adds on the core,
 * hostops.c, as accel/compiler/hostops.py's apply), the status read and the output's read-back
 * (argmax), then prints one line:
 *
 *   img <index> pred <class> cycles <total> quant <c> pool <c> issue <c> wait <c>
 *       status 0x<status> logits <l0>,<l1>,...
 *
 * (one line; the "logits" are the network's output values, int8 or int32; "pool" is the time in
 * host operations; "issue" is the time in each accelerator step's EXEC_BUFFER, until its records
 * are dispatched, "wait" the time in the FENCE after it: until the accelerator has finished the
 * step). A failing status is cleared after the line, so every image reports its own. At the end:
 * "DONE"; a malformed blob prints a line starting with "ERROR" and stops. */
#include <stdint.h>

#include "accelgen.h"
#include "matmul.h"  /* accel_status_error */
#include "mnist_net.h"
#include "runtime.h"

int main(void)
{
    const struct mnist_blob *b = mnist_blob();
    leds_write(0x1);
    if (mnist_check_blob(b))
        return 1;
    uint32_t stride = (mnist_input_bytes(b) + 3u) & ~3u;
    uprintf("mnist: %u steps, %u images of %ux%ux%u, %u outputs\n", b->step_count,
            b->image_count, b->input_height, b->input_width, b->input_channels, b->output_count);
    if (accel_status_error(accel_status()))
        accel_clear_error();

    for (uint32_t n = 0; n < b->image_count; n++) {
        const uint8_t *pixels = (const uint8_t *)(uintptr_t)(b->images_addr + n * stride);
        struct mnist_result r;
        if (mnist_infer(b, pixels, &r))
            return 1;
        const struct mnist_timing *t = &r.timing;
        uprintf("img %u pred %u cycles %u quant %u pool %u issue %u wait %u status 0x%08x "
                "logits ", b->first_index + n, r.pred, r.cycles, t->quant, t->pool, t->issue,
                t->wait, r.status);
        for (uint32_t i = 0; i < b->output_count; i++)
            uprintf(i ? ",%d" : "%d", mnist_output(b, i));
        uart_putc('\n');
        if (accel_status_error(r.status))
            accel_clear_error();
        leds_write(0x2 | (n & 1u) << 2);
    }
    uart_puts("DONE\n");
    leds_write(0xf);
    return 0;
}
