// CRingShim — the only C in RingTransport.
//
// It exposes liburing (whose static inline helpers Swift imports directly) and the handful of things
// Swift cannot import: variadic syscall(2) wrappers and a few constants. No logic lives here; every
// function is a one-line forwarding of its arguments. Errors follow the kernel convention of the call
// (-1 and errno), and the Swift side funnels them through `Syscall` (RingLinux/Syscall.swift).
#ifndef CRING_SHIM_H
#define CRING_SHIM_H

// <sys/types.h> must precede <liburing.h>: liburing defines _XOPEN_SOURCE 500, which otherwise
// clashes with Foundation/Dispatch's view of fd_set.
#include <sys/types.h>
#include <liburing.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/eventfd.h>
#include <linux/futex.h>
#include <sys/prctl.h>

// memfd_create(2) flags and fcntl(2) file seals (not always visible through Glibc's module).
enum {
    CRS_MFD_CLOEXEC = 0x0001U,
    CRS_MFD_ALLOW_SEALING = 0x0002U,
    CRS_F_ADD_SEALS = 1033,
    CRS_F_GET_SEALS = 1034,
    CRS_F_SEAL_SEAL = 0x0001,
    CRS_F_SEAL_SHRINK = 0x0002,
    CRS_F_SEAL_GROW = 0x0004,
    CRS_F_SEAL_WRITE = 0x0008,
};

// futex(2) operations and futex2 flags for io_uring's FUTEX_WAIT/WAKE opcodes.
enum {
    CRS_FUTEX_WAIT = 0,
    CRS_FUTEX_WAKE = 1,
    CRS_FUTEX2_SIZE_U32 = 0x02,
    CRS_IORING_OP_FUTEX_WAIT = 51,
    CRS_IORING_OP_FUTEX_WAKE = 52,
    CRS_IORING_OP_FUTEX_WAITV = 53,
};

static inline int crs_memfd_create(const char *name, unsigned int flags) {
    return (int)syscall(SYS_memfd_create, name, flags);
}

static inline int crs_fcntl_int(int fd, int cmd, int arg) {
    return (int)syscall(SYS_fcntl, fd, cmd, arg);
}

// Shared (not FUTEX_PRIVATE) futex: the word lives in memory mapped by two processes.
static inline long crs_futex_wait(uint32_t *word, uint32_t expected, const struct timespec *timeout) {
    return syscall(SYS_futex, word, CRS_FUTEX_WAIT, expected, timeout, NULL, 0);
}

static inline long crs_futex_wake(uint32_t *word, int count) {
    return syscall(SYS_futex, word, CRS_FUTEX_WAKE, count, NULL, NULL, 0);
}

static inline int crs_pidfd_open(pid_t pid, unsigned int flags) {
    return (int)syscall(SYS_pidfd_open, pid, flags);
}

// futex_waitv(2) (Linux >= 5.16): sleep on up to 128 shared futex words at once, until an absolute
// `deadline` on `clock` (NULL: no deadline). The reactor's futex-thread backend sleeps here.
static inline long crs_futex_waitv(struct futex_waitv *waiters, unsigned int count,
                                   const struct timespec *deadline, clockid_t clock) {
    return syscall(SYS_futex_waitv, waiters, count, 0, deadline, clock);
}

// Names the calling thread, as shown by ps/top/gdb (prctl(2) is variadic).
static inline int crs_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, name, 0, 0, 0);
}

// kcmp(2) KCMP_FILE (type 0): 0 when both descriptors of `pid` refer to the same open file. Leak
// checks use it to tell a closed descriptor from one whose number was reused by another file.
static inline long crs_kcmp_file(pid_t pid, int fd1, int fd2) {
    return syscall(SYS_kcmp, pid, pid, 0, fd1, fd2);
}

// sched_setaffinity(2) with a plain 64-bit mask (CPU_SET is a macro Swift cannot import).
// A spin-loop hint (x86 `pause`, Arm `yield`): Swift has no intrinsic for it.
static inline void crs_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline int crs_set_affinity_mask(uint64_t mask) {
    return (int)syscall(SYS_sched_setaffinity, 0, sizeof(mask), &mask);
}

#endif
