/*
 * RingABIFixture — a worker written in C against ringtransport/worker.h, for the test suite
 * (Tests/RingChannelTests/WorkerABITests.swift). It reports what it sees through its replies and
 * log records, so the tests assert on exact bytes:
 *
 *   inspect  replies a text dump of every field of the rt_invocation it received
 *   errors   replies the result codes of misuses (NULL arguments, unknown numbers, bad status and
 *            level, a NULL payload with a length), then answers itself a second time and logs
 *            that second result
 *   hold     held until cancelled; the cancel is logged ("cancel <n>") and answered cancelled
 *   log      logs "hello <n>" tagged with the invocation, then replies "logged"
 *   close    calls rt_worker_close while invocations are held, then exits 0
 *
 * A terminate is logged ("terminate <grace ns>"). After the END event it checks that END is sticky
 * and that a reply is refused with RT_E_ENDED: exit 0 when both hold, 5 otherwise (4 when the end
 * was not orderly).
 */
#include <ringtransport/worker.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is(const rt_invocation *inv, const char *name) {
    return inv->function.length == strlen(name) && memcmp(inv->function.data, name, inv->function.length) == 0;
}

static size_t hex(char *out, const uint8_t *bytes, size_t length) {
    for (size_t i = 0; i < length; i++) sprintf(out + 2 * i, "%02x", bytes[i]);
    return 2 * length;
}

static void inspect(rt_worker *w, const rt_invocation *inv) {
    size_t size = 4096 + 2 * (inv->payload.length + inv->context.length);
    char *text = malloc(size);
    size_t n = 0;
    n += (size_t)sprintf(text + n, "function=%s;payload=", inv->function.data);
    n += hex(text + n, inv->payload.data, inv->payload.length);
    n += (size_t)sprintf(text + n, ";context=");
    n += hex(text + n, inv->context.data, inv->context.length);
    n += (size_t)sprintf(text + n,
                         ";invocation=%016" PRIx64 "%016" PRIx64 ";forwarding=%016" PRIx64 "%016" PRIx64
                         ";retry=%u/%u;deadline=%u:%" PRIu64 ";traceparent=%s;tracestate=%s;attributes=",
                         inv->invocation_id_high, inv->invocation_id_low, inv->forwarding_id_high, inv->forwarding_id_low,
                         inv->retry_count, inv->max_retries, inv->has_deadline, inv->deadline_ns, inv->traceparent.data,
                         inv->tracestate.data);
    for (size_t i = 0; i < inv->attribute_count; i++) {
        n += (size_t)sprintf(text + n, "%s%s=%s", i ? "," : "", inv->attributes[i].key.data, inv->attributes[i].value.data);
    }
    /* The strings are NUL-terminated and their lengths agree. */
    int terminated = inv->function.data[inv->function.length] == 0 && inv->traceparent.data[inv->traceparent.length] == 0 &&
                     inv->tracestate.data[inv->tracestate.length] == 0 && strlen(inv->function.data) == inv->function.length;
    n += (size_t)sprintf(text + n, ";terminated=%d", terminated);
    rt_worker_reply(w, inv->number, RT_STATUS_SUCCESS, text, n, NULL);
    free(text);
}

static void errors(rt_worker *w, const rt_invocation *inv) {
    rt_event event;
    char text[512];
    int next_null = rt_worker_next(w, NULL, 0);
    int worker_null = rt_worker_next(NULL, &event, 0);
    int unknown = rt_worker_reply(w, 999999, RT_STATUS_SUCCESS, NULL, 0, NULL);
    char unknown_message[128];
    snprintf(unknown_message, sizeof unknown_message, "%s", rt_last_error());
    int status = rt_worker_reply(w, inv->number, (rt_status)7, NULL, 0, NULL);
    int null_payload = rt_worker_reply(w, inv->number, RT_STATUS_SUCCESS, NULL, 5, NULL);
    int level = rt_worker_log(w, inv->number, (rt_log_level)9, "c", "m");
    int null_message = rt_worker_log(w, inv->number, RT_LOG_INFO, "c", NULL);
    int n = snprintf(text, sizeof text, "next-null=%d worker-null=%d unknown=%d status=%d null-payload=%d level=%d null-message=%d | %s",
                     next_null, worker_null, unknown, status, null_payload, level, null_message, unknown_message);
    uint64_t number = inv->number; /* read before the answer, which releases inv */
    int first = rt_worker_reply(w, number, RT_STATUS_SUCCESS, text, (size_t)n, NULL);
    int second = rt_worker_reply(w, number, RT_STATUS_SUCCESS, "again", 5, NULL);
    snprintf(text, sizeof text, "first=%d second=%d", first, second);
    rt_worker_log(w, 0, RT_LOG_INFO, "errors", text);
}

int main(void) {
    rt_worker_options options;
    memset(&options, 0, sizeof options);
    options.size = sizeof options;
    options.runtime = "c fixture";
    options.max_concurrency = 64;
    rt_worker *w = rt_worker_attach(&options);
    if (!w) {
        fprintf(stderr, "RingABIFixture: %s\n", rt_last_error());
        return 2;
    }
    const rt_invocation *held[64];
    size_t held_count = 0;
    char line[128];
    rt_event ev;
    for (;;) {
        if (rt_worker_next(w, &ev, -1) != RT_OK) return 6;
        if (ev.kind == RT_EVENT_END) break;
        if (ev.kind == RT_EVENT_TERMINATE) {
            snprintf(line, sizeof line, "terminate %" PRIu64, ev.grace_period_ns);
            rt_worker_log(w, 0, RT_LOG_INFO, "fixture", line);
        } else if (ev.kind == RT_EVENT_CANCEL) {
            for (size_t i = 0; i < held_count; i++) {
                if (held[i]->number != ev.number) continue;
                held[i] = held[--held_count];
                snprintf(line, sizeof line, "cancel %" PRIu64, ev.number);
                rt_worker_log(w, 0, RT_LOG_INFO, "fixture", line);
                rt_worker_reply(w, ev.number, RT_STATUS_CANCELLED, NULL, 0, NULL);
                break;
            }
        } else if (ev.kind == RT_EVENT_INVOCATION) {
            const rt_invocation *inv = ev.invocation;
            if (is(inv, "inspect")) inspect(w, inv);
            else if (is(inv, "errors")) errors(w, inv);
            else if (is(inv, "hold")) held[held_count++] = inv;
            else if (is(inv, "log")) {
                snprintf(line, sizeof line, "hello %" PRIu64, inv->number);
                rt_worker_log(w, inv->number, RT_LOG_WARNING, "fixture", line);
                rt_worker_reply(w, inv->number, RT_STATUS_SUCCESS, "logged", 6, NULL);
            } else if (is(inv, "close")) {
                rt_worker_close(w);
                return 0;
            } else rt_worker_reply(w, inv->number, RT_STATUS_FAILURE, NULL, 0, "unknown function");
        }
    }
    int orderly = ev.detail == NULL;
    rt_event again;
    int sticky = rt_worker_next(w, &again, 0) == RT_OK && again.kind == RT_EVENT_END;
    int refused = rt_worker_reply(w, 1, RT_STATUS_SUCCESS, NULL, 0, NULL) == RT_E_ENDED;
    rt_worker_close(w);
    if (!orderly) return 4;
    return sticky && refused ? 0 : 5;
}
