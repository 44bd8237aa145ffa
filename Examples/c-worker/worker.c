/*
 * A RingTransport worker in C, written against ringtransport/worker.h only (Docs/WorkerABI.md).
 * One thread, one event loop: invocations that finish at once are answered where they arrive;
 * `slow` and `hang` are held (answered later by a timer or a cancel), so the loop keeps reading.
 * It answers the functions the tools call (Docs/Protocol.md §11):
 *
 *   echo     the payload back              digest  ringbench stress's audit reply
 *   slow     after u32 ms, echo            hang    held until cancelled, then `cancelled`
 *   fail     failure "requested failure"   log     u32 log records, then echo
 *   huge     u32 bytes of (i*31+7)&255     pid     getpid() as u32
 *   exit     exit(payload[0])              crash   abort()
 *
 * Build: cc -O2 -o worker worker.c $(pkg-config --cflags --libs ringworker)
 * Exit status: 0 after an orderly terminate, 2 when it cannot attach, 4 when the channel failed.
 */
#include <ringtransport/worker.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_HELD 4096

typedef struct held {
    const rt_invocation *invocation;
    uint64_t due_ns; /* 0: until cancelled (hang) */
} held;

static held holding[MAX_HELD];
static size_t held_count;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t u32_at_start(rt_bytes payload) {
    uint32_t value = 0;
    if (payload.length >= 4) memcpy(&value, payload.data, 4); /* little-endian machines */
    return value;
}

static int is(const rt_invocation *inv, const char *name) {
    return inv->function.length == strlen(name) && memcmp(inv->function.data, name, inv->function.length) == 0;
}

static void reply_or_die(rt_worker *w, uint64_t number, rt_status status, const void *bytes, size_t length, const char *message) {
    int result = rt_worker_reply(w, number, status, bytes, length, message);
    if (result != RT_OK && result != RT_E_ENDED) {
        fprintf(stderr, "c-worker: reply %llu: %s\n", (unsigned long long)number, rt_last_error());
        exit(4);
    }
}

static void echo(rt_worker *w, const rt_invocation *inv) {
    reply_or_die(w, inv->number, RT_STATUS_SUCCESS, inv->payload.data, inv->payload.length, NULL);
}

/* ringbench stress: [u64 context digest][u64 payload digest][u64 payload count][N bytes of pattern]. */
static void digest(rt_worker *w, const rt_invocation *inv) {
    size_t n = u32_at_start(inv->payload);
    uint8_t *reply = malloc(24 + n);
    if (!reply) { fprintf(stderr, "c-worker: out of memory\n"); exit(4); }
    uint64_t context = rt_audit_hash(inv->context.data, inv->context.length, 0xC0DEC0DE);
    uint64_t payload = rt_audit_hash(inv->payload.data, inv->payload.length, 0xDA7ADA7A);
    uint64_t count = inv->payload.length;
    memcpy(reply, &context, 8);
    memcpy(reply + 8, &payload, 8);
    memcpy(reply + 16, &count, 8);
    rt_audit_pattern(reply + 24, n, context);
    reply_or_die(w, inv->number, RT_STATUS_SUCCESS, reply, 24 + n, NULL);
    free(reply);
}

static void hold(const rt_invocation *inv, uint64_t due_ns) {
    if (held_count == MAX_HELD) { fprintf(stderr, "c-worker: more than %d held invocations\n", MAX_HELD); exit(4); }
    holding[held_count++] = (held){ inv, due_ns };
}

static void run(rt_worker *w, const rt_invocation *inv) {
    if (is(inv, "echo")) echo(w, inv);
    else if (is(inv, "digest")) digest(w, inv);
    else if (is(inv, "slow")) hold(inv, now_ns() + (uint64_t)u32_at_start(inv->payload) * 1000000u);
    else if (is(inv, "hang")) hold(inv, 0);
    else if (is(inv, "fail")) reply_or_die(w, inv->number, RT_STATUS_FAILURE, inv->payload.data, inv->payload.length, "requested failure");
    else if (is(inv, "log")) {
        uint32_t count = u32_at_start(inv->payload);
        char line[32];
        for (uint32_t i = 0; i < count; i++) {
            snprintf(line, sizeof line, "record %u", i);
            rt_worker_log(w, inv->number, RT_LOG_INFO, "log", line);
        }
        echo(w, inv);
    } else if (is(inv, "huge")) {
        size_t n = u32_at_start(inv->payload);
        uint8_t *bytes = malloc(n ? n : 1);
        for (size_t i = 0; i < n; i++) bytes[i] = (uint8_t)((i * 31 + 7) & 0xFF);
        reply_or_die(w, inv->number, RT_STATUS_SUCCESS, bytes, n, NULL);
        free(bytes);
    } else if (is(inv, "pid")) {
        uint32_t pid = (uint32_t)getpid();
        reply_or_die(w, inv->number, RT_STATUS_SUCCESS, &pid, 4, NULL);
    } else if (is(inv, "exit")) exit(inv->payload.length ? inv->payload.data[0] : 0);
    else if (is(inv, "crash")) abort();
    else {
        char message[1100];
        snprintf(message, sizeof message, "unknown function %.*s", (int)inv->function.length, inv->function.data);
        reply_or_die(w, inv->number, RT_STATUS_FAILURE, NULL, 0, message);
    }
}

/* Answers every held `slow` whose time has come; returns the wait until the next one (-1: none). */
static int64_t finish_due(rt_worker *w) {
    uint64_t now = now_ns();
    int64_t wait = -1;
    for (size_t i = 0; i < held_count;) {
        held h = holding[i];
        if (h.due_ns != 0 && h.due_ns <= now) {
            holding[i] = holding[--held_count];
            echo(w, h.invocation);
            continue;
        }
        if (h.due_ns != 0 && (wait < 0 || (int64_t)(h.due_ns - now) < wait)) wait = (int64_t)(h.due_ns - now);
        i++;
    }
    return wait;
}

static void cancel(rt_worker *w, uint64_t number) {
    for (size_t i = 0; i < held_count; i++) {
        if (holding[i].invocation->number != number) continue;
        const rt_invocation *inv = holding[i].invocation;
        holding[i] = holding[--held_count];
        if (is(inv, "hang")) rt_worker_log(w, number, RT_LOG_INFO, "hang", "handler saw cancellation");
        reply_or_die(w, number, RT_STATUS_CANCELLED, NULL, 0, NULL);
        return;
    }
    /* Not held: already answered (the cancel crossed the answer). Nothing to do. */
}

int main(void) {
    rt_worker_options options = { .size = sizeof options, .runtime = "c example" };
    rt_worker *w = rt_worker_attach(&options);
    if (!w) {
        fprintf(stderr, "c-worker: %s\n", rt_last_error());
        return 2;
    }
    rt_event ev;
    for (;;) {
        int result = rt_worker_next(w, &ev, finish_due(w));
        if (result == RT_TIMEOUT) continue;
        if (result != RT_OK) { fprintf(stderr, "c-worker: %s\n", rt_last_error()); return 4; }
        if (ev.kind == RT_EVENT_END) break;
        if (ev.kind == RT_EVENT_INVOCATION) run(w, ev.invocation);
        else if (ev.kind == RT_EVENT_CANCEL) cancel(w, ev.number);
        /* RT_EVENT_TERMINATE: nothing to stop here; held invocations finish or get cancelled. */
    }
    int status = ev.detail ? 4 : 0;
    if (ev.detail) fprintf(stderr, "c-worker: %s\n", ev.detail);
    rt_worker_close(w);
    return status;
}
