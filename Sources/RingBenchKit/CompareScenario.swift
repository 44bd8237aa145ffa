/// What `ringbench compare` measures for each transport and message size.
package enum CompareScenario: String, CaseIterable, Sendable {
    /// One-way stream from the host process to the worker process: messages/s and bytes/s.
    case throughput
    /// Request/response round trips, one in flight: latency percentiles.
    case pingpong
    /// Invocations (request → worker → response) with many in flight: invocations/s and latency.
    case invoke

    var title: String {
        switch self {
        case .throughput: "one-way throughput"
        case .pingpong: "ping-pong round trip"
        case .invoke: "invocations at concurrency"
        }
    }
}

/// The settings shared by every measurement of one `compare` run.
struct CompareSettings: Sendable {
    var repetitions: Int
    /// Seconds per repetition.
    var seconds: Double
    /// Seconds of warm-up before a latency measurement (throughput warms up with one repetition).
    var warmUpSeconds: Double
    var pinned: Bool
    var consume: ConsumeMode
    /// Open-loop rate for ping-pong (round trips/s); nil = closed loop.
    var rate: Double?
    /// Requests in flight in the `invoke` step being run (each step sets its own).
    var concurrency: Int
    /// Worker processes in the `invoke` scenario.
    var workers: Int
    /// The in-flight levels the `invoke` scenario measures, one row each.
    var concurrencies: [Int] = [1]
    /// The worker executable of the `invoke` scenario (nil: RingExampleWorker beside ringbench).
    var workerPath: String? = nil
}
