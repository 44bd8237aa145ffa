/*
 * ringtransport/worker.h — the C ABI of a RingTransport worker (Docs/WorkerABI.md).
 *
 * A worker process started by a RingTransport function host (FunctionHost) attaches to the host's
 * shared-memory segment from its environment, then pulls events — invocations, cancels, terminate,
 * the end of the channel — and answers each invocation exactly once, from any thread:
 *
 *     rt_worker *w = rt_worker_attach(NULL);
 *     if (!w) { fprintf(stderr, "%s\n", rt_last_error()); return 2; }
 *     rt_event ev;
 *     while (rt_worker_next(w, &ev, -1) == RT_OK && ev.kind != RT_EVENT_END) {
 *         if (ev.kind == RT_EVENT_INVOCATION)
 *             rt_worker_reply(w, ev.number, RT_STATUS_SUCCESS,
 *                             ev.invocation->payload.data, ev.invocation->payload.length, NULL);
 *     }
 *     int status = ev.detail ? 4 : 0;
 *     rt_worker_close(w);
 *     return status;
 *
 * The library (libringworker.so) is self-contained: the Swift runtime it is written in is linked
 * into it statically, so a C, C++, Python, Go or Rust process needs nothing else; it depends on
 * libc, libm, libstdc++, libgcc_s and liburing.so.2 (Debian: liburing2) only. Link with
 * `pkg-config --cflags --libs ringworker`.
 *
 * Threads: every function may be called from any thread, concurrently. rt_worker_next blocks the
 * calling thread only (never a thread of the library's own); any number of threads may wait in it.
 * The library runs one reader thread of its own (plus Swift's small thread pool) — do not fork()
 * after rt_worker_attach.
 */
#ifndef RINGTRANSPORT_WORKER_H
#define RINGTRANSPORT_WORKER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The version of this ABI: rt_abi_version() of a library this header can use. */
#define RT_ABI_VERSION 1

/** A worker's end of the channel. Opaque; from rt_worker_attach, ended by rt_worker_close. */
typedef struct rt_worker rt_worker;

/** Results of the calls below: 0 or positive is success, negative an error (rt_last_error says why). */
typedef enum rt_result {
    RT_OK = 0,
    /** rt_worker_next: the timeout passed with no event. */
    RT_TIMEOUT = 1,
    /** A null or invalid argument (a NULL event, non-UTF-8 text, an unknown status or level). */
    RT_E_ARGUMENT = -1,
    /** rt_worker_reply: no invocation with this number is waiting for an answer (never delivered,
     *  already answered, or answered `cancelled` by rt_worker_close). Nothing was sent. */
    RT_E_UNKNOWN_INVOCATION = -2,
    /** The channel has ended (the END event was delivered); nothing more is sent. */
    RT_E_ENDED = -3
} rt_result;

/** An invocation's outcome (Docs/Protocol.md §7). */
typedef enum rt_status {
    RT_STATUS_SUCCESS = 0,
    RT_STATUS_FAILURE = 1,
    RT_STATUS_CANCELLED = 2
} rt_status;

/** Log levels, swift-log's order (Docs/Protocol.md §8). */
typedef enum rt_log_level {
    RT_LOG_TRACE = 0,
    RT_LOG_DEBUG = 1,
    RT_LOG_INFO = 2,
    RT_LOG_NOTICE = 3,
    RT_LOG_WARNING = 4,
    RT_LOG_ERROR = 5,
    RT_LOG_CRITICAL = 6
} rt_log_level;

/** UTF-8 text: `length` bytes at `data`, followed by a NUL (not counted). Never NULL in an event. */
typedef struct rt_string {
    const char *data;
    size_t length;
} rt_string;

/** Bytes: `length` bytes at `data` (`data` is non-NULL even when `length` is 0). */
typedef struct rt_bytes {
    const uint8_t *data;
    size_t length;
} rt_bytes;

/** One attribute of the forwarding context. */
typedef struct rt_attribute {
    rt_string key;
    rt_string value;
} rt_attribute;

/**
 * One invocation, decoded from the host's request frame. Everything it points to stays valid and
 * unchanged until the invocation is answered (rt_worker_reply returned RT_OK for its number) or the
 * worker is closed; copy what you keep longer.
 */
typedef struct rt_invocation {
    /** The host's invocation number: the frames' stream id; what rt_worker_reply answers. */
    uint64_t number;
    /** The function the host asked for. */
    rt_string function;
    /** The request's payload, byte for byte. */
    rt_bytes payload;
    /** The forwarding context's encoding as the request frame carried it (Docs/WireFormat.md §3);
     *  its fields, decoded, follow. The reply carries it back to the host automatically. */
    rt_bytes context;
    uint64_t invocation_id_high;
    uint64_t invocation_id_low;
    uint64_t forwarding_id_high;
    uint64_t forwarding_id_low;
    uint32_t retry_count;
    uint32_t max_retries;
    /** Non-zero when the invocation has a deadline. */
    uint32_t has_deadline;
    uint32_t reserved;
    /** The deadline, CLOCK_MONOTONIC nanoseconds of this machine (when has_deadline). */
    uint64_t deadline_ns;
    /** W3C trace context (empty strings when absent): hand them to your tracer. */
    rt_string traceparent;
    rt_string tracestate;
    const rt_attribute *attributes;
    size_t attribute_count;
} rt_invocation;

/** What rt_worker_next delivers. */
typedef enum rt_event_kind {
    /** An invocation to run: `number` and `invocation`. Answer it exactly once with rt_worker_reply. */
    RT_EVENT_INVOCATION = 1,
    /** The host cancelled invocation `number` (or terminate's grace period ran out) while you held
     *  it: stop its work and answer it (RT_STATUS_CANCELLED, or its result if it finished anyway).
     *  A cancel may arrive after you answered (they cross): ignore those. */
    RT_EVENT_CANCEL = 2,
    /** The host asked the worker to terminate: no new invocation will come; those you hold may
     *  finish within `grace_period_ns`, then each gets RT_EVENT_CANCEL. The channel ends (RT_EVENT_END)
     *  when the last is answered. */
    RT_EVENT_TERMINATE = 3,
    /** The channel ended. `detail` is NULL after an orderly terminate (exit with status 0), else it
     *  says why (the host exited, a protocol violation, ...). Every later rt_worker_next returns this
     *  event again. Call rt_worker_close, then exit. */
    RT_EVENT_END = 4
} rt_event_kind;

typedef struct rt_event {
    rt_event_kind kind;
    uint32_t reserved;
    /** INVOCATION and CANCEL: the invocation's number. */
    uint64_t number;
    /** INVOCATION: the invocation (valid until answered). NULL otherwise. */
    const rt_invocation *invocation;
    /** TERMINATE: the grace period in nanoseconds. */
    uint64_t grace_period_ns;
    /** END: NULL (orderly) or why it ended, valid until rt_worker_close. NULL otherwise. */
    const char *detail;
} rt_event;

/** Options of rt_worker_attach; zero-initialise, then set `size` = sizeof(rt_worker_options). */
typedef struct rt_worker_options {
    /** sizeof(rt_worker_options) (lets later versions add fields). */
    uint32_t size;
    /** Invocations delivered at once (more wait in the library, still cancellable); 0: 256. */
    uint32_t max_concurrency;
    /** Free-form runtime name sent in the handshake (e.g. "python 3.11"); NULL: "c". */
    const char *runtime;
    /** How the library's reader waits: "latency" (default: spins ~20 us, then sleeps),
     *  "efficiency" (sleeps sooner), "alwaysSleep". NULL: "latency". */
    const char *wait_profile;
} rt_worker_options;

/** The ABI version of the loaded library (RT_ABI_VERSION of its header). */
uint32_t rt_abi_version(void);

/**
 * Attaches to the host from the environment the host gave this process (RING_SEGMENT_FD and
 * RING_WORKER_ID when spawned, RING_CHANNEL_SOCKET to connect to a listening host) and starts the
 * channel: handshake, init and function loads are answered by the library. Returns NULL on failure
 * (rt_last_error() says why: not started by a host, a segment that fails validation, ...).
 * `options` may be NULL.
 */
rt_worker *rt_worker_attach(const rt_worker_options *options);

/**
 * Waits for the next event, at most `timeout_ns` nanoseconds (negative: without limit; 0: only
 * look). Returns RT_OK with `*event` filled, RT_TIMEOUT, or RT_E_ARGUMENT.
 */
int rt_worker_next(rt_worker *worker, rt_event *event, int64_t timeout_ns);

/**
 * Answers invocation `number`: `status`, the reply payload (`length` bytes at `payload`, which may
 * be NULL when `length` is 0) and, for RT_STATUS_FAILURE, a UTF-8 `message` (NULL: empty). The
 * request's forwarding context is echoed with it. A reply larger than the host's maximum message
 * size is sent as a failure saying so. May wait while the ring to the host is full. After RT_OK the
 * invocation's memory is released.
 */
int rt_worker_reply(rt_worker *worker, uint64_t number, rt_status status, const void *payload, size_t length,
                    const char *message);

/**
 * Sends a log record to the host's logger: tagged with invocation `number` when it is one you hold
 * (0: not tied to an invocation). `category` and `message` are UTF-8 (NULL category: "worker").
 * Never blocks: when the buffer towards the host is full the record is dropped (and counted).
 */
int rt_worker_log(rt_worker *worker, uint64_t number, rt_log_level level, const char *category, const char *message);

/**
 * Ends the channel if it has not ended (every invocation still held is answered `cancelled`),
 * waits until everything is written and the ring closed, and frees the worker. `worker` is invalid
 * afterwards.
 */
void rt_worker_close(rt_worker *worker);

/** Why the last call on this thread failed (UTF-8, valid until the next failing call on it). */
const char *rt_last_error(void);

/**
 * The hash and pattern of `ringbench stress`'s `digest` function (Docs/Protocol.md §11), for
 * workers in languages where computing them per byte is slow. Not part of the protocol.
 */
uint64_t rt_audit_hash(const void *bytes, size_t length, uint64_t seed);
void rt_audit_pattern(void *buffer, size_t length, uint64_t seed);

#ifdef __cplusplus
}
#endif

#endif /* RINGTRANSPORT_WORKER_H */
