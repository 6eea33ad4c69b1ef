/* host/accel_mmio.h: the MMIO path on the host model: same model, counted separately. */
#ifndef ACCELGEN_MMIO_H
#define ACCELGEN_MMIO_H

#include "accelgen.h"

extern unsigned long host_mmio_commands;

#define HOST_MMIO(call) (host_mmio_commands++, call)
#define accel_mmio_config_load(...) HOST_MMIO(accel_config_load(__VA_ARGS__))
#define accel_mmio_config_store(...) HOST_MMIO(accel_config_store(__VA_ARGS__))
#define accel_mmio_load_sp(...) HOST_MMIO(accel_load_sp(__VA_ARGS__))
#define accel_mmio_load_sp_t(...) HOST_MMIO(accel_load_sp_t(__VA_ARGS__))
#define accel_mmio_store_acc(...) HOST_MMIO(accel_store_acc(__VA_ARGS__))
#define accel_mmio_preload(...) HOST_MMIO(accel_preload(__VA_ARGS__))
#define accel_mmio_compute(...) HOST_MMIO(accel_compute(__VA_ARGS__))
#define accel_mmio_compute_acc(...) HOST_MMIO(accel_compute_acc(__VA_ARGS__))
#define accel_mmio_fence() HOST_MMIO(accel_fence())
#define accel_mmio_status() HOST_MMIO(accel_status())

#endif /* ACCELGEN_MMIO_H */
