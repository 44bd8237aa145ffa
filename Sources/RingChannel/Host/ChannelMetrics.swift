// ChannelMetrics — what the host reports through swift-metrics (never bootstrapped here: the
// application's MetricsSystem, or a factory passed in, receives them).
//
//   ringchannel_invocations_total{outcome=success|failure|cancelled}   answers from workers
//   ringchannel_invocation_failures_total{kind=…}                      invocations that got an error
//   ringchannel_invocations_in_flight                                  meter
//   ringchannel_late_responses_total                                   answers after cancel/deadline
//   ringchannel_ring_occupancy_bytes{direction=host_to_worker|worker_to_host}  last seen, per host
//   ringchannel_wakes_total{kind=requested|syscalls}                   the host reactor's wake-ups
//   ringchannel_workers_ready                                          meter
//   ringchannel_worker_ends_total{kind=…}                               worker connections that ended
//   ringchannel_worker_log_records_total                               workers' log records received (also those below the logger's level)
import Metrics
import RingLinux
import Synchronization
import RingCore

final class ChannelMetrics: Sendable {
    let factory: (any MetricsFactory)?
    let successes: Counter
    let failures: Counter
    let cancelled: Counter
    let inFlight: Meter
    let lateResponses: Counter
    let hostToWorkerOccupancy: Gauge
    let workerToHostOccupancy: Gauge
    let wakesRequested: Counter
    let wakeSyscalls: Counter
    let workersReady: Meter
    let logRecords: Counter
    private let failureCounters = RingMutex<[String: Counter]>([:])
    private let endCounters = RingMutex<[String: Counter]>([:])
    private let lastReactor = RingMutex<ReactorCounters?>(nil)

    init(factory: (any MetricsFactory)?) {
        self.factory = factory
        func counter(_ label: String, _ dimensions: [(String, String)] = []) -> Counter {
            if let factory { return Counter(label: label, dimensions: dimensions, factory: factory) }
            return Counter(label: label, dimensions: dimensions)
        }
        func meter(_ label: String) -> Meter {
            if let factory { return Meter(label: label, dimensions: [], factory: factory) }
            return Meter(label: label)
        }
        func gauge(_ label: String, _ dimensions: [(String, String)]) -> Gauge {
            if let factory { return Gauge(label: label, dimensions: dimensions, factory: factory) }
            return Gauge(label: label, dimensions: dimensions)
        }
        successes = counter("ringchannel_invocations_total", [("outcome", "success")])
        failures = counter("ringchannel_invocations_total", [("outcome", "failure")])
        cancelled = counter("ringchannel_invocations_total", [("outcome", "cancelled")])
        inFlight = meter("ringchannel_invocations_in_flight")
        lateResponses = counter("ringchannel_late_responses_total")
        hostToWorkerOccupancy = gauge("ringchannel_ring_occupancy_bytes", [("direction", "host_to_worker")])
        workerToHostOccupancy = gauge("ringchannel_ring_occupancy_bytes", [("direction", "worker_to_host")])
        wakesRequested = counter("ringchannel_wakes_total", [("kind", "requested")])
        wakeSyscalls = counter("ringchannel_wakes_total", [("kind", "syscalls")])
        workersReady = meter("ringchannel_workers_ready")
        logRecords = counter("ringchannel_worker_log_records_total")
    }

    /// Counts an invocation that ended with an error of `kind`.
    func failure(kind: String) {
        let counter = failureCounters.withLock { counters in
            if let existing = counters[kind] { return existing }
            let made: Counter
            if let factory {
                made = Counter(label: "ringchannel_invocation_failures_total", dimensions: [("kind", kind)], factory: factory)
            } else {
                made = Counter(label: "ringchannel_invocation_failures_total", dimensions: [("kind", kind)])
            }
            counters[kind] = made
            return made
        }
        counter.increment()
    }

    /// Counts a worker connection that ended with `kind` ("orderly" or an error kind).
    func workerEnded(kind: String) {
        let counter = endCounters.withLock { counters in
            if let existing = counters[kind] { return existing }
            let made: Counter
            if let factory {
                made = Counter(label: "ringchannel_worker_ends_total", dimensions: [("kind", kind)], factory: factory)
            } else {
                made = Counter(label: "ringchannel_worker_ends_total", dimensions: [("kind", kind)])
            }
            counters[kind] = made
            return made
        }
        counter.increment()
    }

    /// Adds the reactor's wake counters since the last call.
    func recordWakes(_ now: ReactorCounters) {
        let (requested, syscalls) = lastReactor.withLock { last -> (UInt64, UInt64) in
            defer { last = now }
            guard let previous = last else { return (now.wakesRequested, now.wakeKernelCalls) }
            return (now.wakesRequested &- previous.wakesRequested, now.wakeKernelCalls &- previous.wakeKernelCalls)
        }
        if requested > 0 && requested < UInt64(Int64.max) { wakesRequested.increment(by: Int64(requested)) }
        if syscalls > 0 && syscalls < UInt64(Int64.max) { wakeSyscalls.increment(by: Int64(syscalls)) }
    }
}
