// The bare two-copy ring: what moving a message from one process to another costs on this machine
// when nothing else is done. A sender copies each message from its private buffer into a slot of a
// shared ring, a receiver copies it out into its own private buffer (ringbench throughput's default
// `--consume copy`), each pinned to its own CPU, synchronised by nothing but a head and a tail
// counter (acquire/release). No header, no validation, no wake-up: an upper bound for any ring that
// copies in and copies out, read against single-thread memcpy between two buffers that stay in
// cache (the limit `ringbench compare` divides by).
//
// usage: copy-limit SIZE RING_BYTES SECONDS [WRITER]
//   WRITER: memcpy (default; glibc, as Swift's copyMemory), movsb (rep movsb), stream
//           (non-temporal 64-byte stores, AVX-512 when built with it, else SSE2)
// prints one line: size ring writer ring_bytes_per_s memcpy_bytes_per_s percent sender_alone_bytes_per_s
#define _GNU_SOURCE
#include <errno.h>
#include <immintrin.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
    _Alignas(64) _Atomic uint64_t head;   // messages the receiver has given back
    _Alignas(64) _Atomic uint64_t tail;   // messages the sender has published
    _Alignas(64) _Atomic int stop;
    _Atomic int ready;
    uint64_t received;
    uint64_t sink;        // what the receiver read, so its copies are not optimised away
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity (running unpinned)");
}

/// Bytes/s of memcpy from `source` into `destination` (one buffer, or `slots` successive slots of
/// `size` bytes), for a quarter of a second.
static double copyRate(char *destination, uint64_t slots, const char *source, size_t size) {
    uint64_t copies = 0;
    double start = now();
    while (now() - start < 0.25) {
        for (int i = 0; i < 64; i++, copies++) {
            char *d = slots ? destination + (copies % slots) * size : destination;
            memcpy(d, source, size);
            __asm__ volatile("" : : "r"(d) : "memory");
        }
    }
    return (double)(copies * size) / (now() - start);
}

static void copy_movsb(char *d, const char *s, size_t n) {
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

static void copy_stream(char *d, const char *s, size_t n) {
    size_t i = 0;
#ifdef __AVX512F__
    for (; i + 64 <= n; i += 64) _mm512_stream_si512((void *)(d + i), _mm512_loadu_si512(s + i));
#else
    for (; i + 16 <= n; i += 16) _mm_stream_si128((__m128i *)(d + i), _mm_loadu_si128((const __m128i *)(s + i)));
#endif
    memcpy(d + i, s + i, n - i);
    _mm_sfence();
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s SIZE RING_BYTES SECONDS [memcpy|movsb|stream]\n", argv[0]);
        return 2;
    }
    size_t size = strtoull(argv[1], 0, 10), ringBytes = strtoull(argv[2], 0, 10);
    double seconds = atof(argv[3]);
    const char *writer = argc > 4 ? argv[4] : "memcpy";
    enum { WRITE_MEMCPY, WRITE_MOVSB, WRITE_STREAM } mode;
    if (strcmp(writer, "memcpy") == 0) mode = WRITE_MEMCPY;
    else if (strcmp(writer, "movsb") == 0) mode = WRITE_MOVSB;
    else if (strcmp(writer, "stream") == 0) mode = WRITE_STREAM;
    else {
        fprintf(stderr, "unknown writer '%s' (known: memcpy, movsb, stream)\n", writer);
        return 2;
    }
    if (size == 0 || size % 64 != 0 || ringBytes < 2 * size) {
        fprintf(stderr, "SIZE must be a positive multiple of 64 and RING_BYTES at least 2 × SIZE\n");
        return 2;
    }
    uint64_t slots = ringBytes / size;

    // The limit: single-thread memcpy between two private buffers, as Calibration.memcpyBandwidth.
    char *a = aligned_alloc(64, size), *b = aligned_alloc(64, size);
    memset(a, 1, size);
    memset(b, 0, size);
    double memcpyRate = copyRate(b, 0, a, size);
    // The sender's own ceiling: the same copy, one thread, into successive slots of a ring-sized
    // private buffer (no second core), which stays in cache only while it fits.
    char *alone = aligned_alloc(4096, ringBytes);
    memset(alone, 0, ringBytes);
    double aloneRate = copyRate(alone, slots, a, size);
    free(alone);

    struct shared *sh = mmap(0, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char *ring = mmap(0, ringBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED || ring == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    memset(ring, 0, ringBytes);

    pid_t receiver = fork();
    if (receiver < 0) {
        perror("fork");
        return 1;
    }
    if (receiver == 0) {
        pin(1);
        char *out = aligned_alloc(64, size);
        uint64_t head = 0, tail = 0, sink = 0;
        atomic_store(&sh->ready, 1);
        for (;;) {
            while (head == tail) {
                tail = atomic_load_explicit(&sh->tail, memory_order_acquire);
                if (head == tail && atomic_load_explicit(&sh->stop, memory_order_relaxed)) goto done;
            }
            memcpy(out, ring + (head % slots) * size, size);
            sink += (unsigned char)out[size - 1];
            head++;
            atomic_store_explicit(&sh->head, head, memory_order_release);
        }
    done:
        sh->received = head;
        sh->sink = sink;
        _exit(0);
    }

    pin(0);
    while (!atomic_load(&sh->ready)) {}
    memset(a, 2, size);
    uint64_t tail = 0, head = 0;
    double began = now(), deadline = began + seconds;
    for (;;) {
        if ((tail & 63) == 0 && now() >= deadline) break;
        while (tail - head >= slots) head = atomic_load_explicit(&sh->head, memory_order_acquire);
        char *slot = ring + (tail % slots) * size;
        if (mode == WRITE_STREAM) copy_stream(slot, a, size);
        else if (mode == WRITE_MOVSB) copy_movsb(slot, a, size);
        else memcpy(slot, a, size);
        tail++;
        atomic_store_explicit(&sh->tail, tail, memory_order_release);
    }
    while (atomic_load_explicit(&sh->head, memory_order_acquire) != tail) {}
    double elapsed = now() - began;
    atomic_store(&sh->stop, 1);
    int status;
    while (waitpid(receiver, &status, 0) < 0 && errno == EINTR) {}
    double rate = (double)(sh->received * size) / elapsed;
    printf("%zu %zu %s %.0f %.0f %.1f %.0f\n", size, ringBytes, writer, rate, memcpyRate, 100 * rate / memcpyRate, aloneRate);
    return 0;
}
