#ifndef RING_PREFETCH_H
#define RING_PREFETCH_H

/// Starts loading the cache line holding `address` into this core's caches, for reading, without
/// waiting for it: a hint that never faults and yields no value, so the instruction retires at
/// once. (A plain load used as a prefetch must retire, and a cross-core miss then stalls the
/// reader once its reorder window is full.) Swift cannot emit the instruction itself.
static inline __attribute__((always_inline)) void ring_prefetch_read(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Starts fetching the cache line holding `address` into this core's caches *for writing*
/// (exclusive, so a later store needs no further transfer), without waiting for it. The producer
/// uses it on free ring space ahead of its tail: the consumer's core last held those lines, and
/// without the hint every store of a new frame waits for its line in turn (Docs/Benchmarks.md,
/// stop 33). x86-64 encodes it as PREFETCHW, which compilers emit only when told the CPU has it;
/// x86-64 CPUs that lack it execute the encoding as a no-op. Elsewhere the compiler's write hint.
static inline __attribute__((always_inline)) void ring_prefetch_write(const void *address) {
#if defined(__x86_64__)
    __asm__ volatile("prefetchw %0" : : "m"(*(const char *)address));
#else
    __builtin_prefetch(address, 1, 3);
#endif
}

#endif
