#ifndef RING_PREFETCH_H
#define RING_PREFETCH_H

/// Starts loading the cache line holding `address` into this core's caches, for reading, without
/// waiting for it: a hint that never faults and yields no value, so the instruction retires at
/// once. (A plain load used as a prefetch must retire, and a cross-core miss then stalls the
/// reader once its reorder window is full.) Swift cannot emit the instruction itself.
static inline __attribute__((always_inline)) void ring_prefetch_read(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
