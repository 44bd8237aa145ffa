/// One row family of `ringbench compare`: a transport and how it measures each scenario. Adding a
/// transport is adding one entry to `CompareTransport.all`.
struct CompareTransport: Sendable {
    typealias Runner = @Sendable (_ settings: CompareSettings, _ size: Int) async throws -> BenchResult

    enum Role: Sendable {
        /// RingTransport itself: gets "% of limit".
        case ring
        /// What a host would otherwise use.
        case baseline
        /// gRPC (over HTTP/2 or over the rings): no "% of limit" (the limits are for raw transports).
        case grpc
    }

    var name: String
    var role: Role
    /// One line for `--help` and the docs.
    var summary: String
    var throughput: Runner?
    var pingpong: Runner?
    var invoke: Runner?

    func runner(for scenario: CompareScenario) -> Runner? {
        switch scenario {
        case .throughput: throughput
        case .pingpong: pingpong
        case .invoke: invoke
        }
    }
}

extension CompareTransport {
    /// Every transport, in table order.
    static var all: [CompareTransport] { native + grpc }

    static let native: [CompareTransport] = [
        ring(profile: "latency"),
        ring(profile: "efficiency"),
        ringSubmit,
        stream(.unix, summary: "Unix stream socketpair, 4-byte length prefix, one write per message"),
        stream(.pipe, summary: "two pipes (one per direction, 1 MiB buffers), same framing"),
        stream(.tcp, summary: "TCP over 127.0.0.1, TCP_NODELAY, same framing"),
    ]

    static func ring(profile: String) -> CompareTransport {
        CompareTransport(
            name: "ring-\(profile)", role: .ring,
            summary: "RingTransport rings, `\(profile)` wait profile (invoke: FunctionHost → RingExampleWorker)",
            throughput: { settings, size in try await CompareMeasure.throughput(.ring, profile: profile, settings: settings, size: size) },
            pingpong: { settings, size in
                try await CompareMeasure.pingPong(name: "ring-\(profile)", settings: settings, size: size) {
                    try RingPingPongClient(profileName: profile, maxSize: size)
                }
            },
            invoke: { settings, size in try await CompareMeasure.invokeRing(profile: profile, settings: settings, size: size) })
    }

    /// The invoke rows of a host that pipelines: `FunctionHost.submit`, each completion (called on
    /// the host's reactor thread as the answer is read) starting the next invocation — no task
    /// parked per invocation. `latency` profile; invoke only. Its "% limit" is read against
    /// ring-latency's ping-pong.
    static let ringSubmit = CompareTransport(
        name: "ring-submit", role: .ring,
        summary: "FunctionHost.submit, completions instead of tasks (`latency` wait profile; invoke only)",
        throughput: nil, pingpong: nil,
        invoke: { settings, size in
            try await CompareMeasure.invokeRing(profile: "latency", name: "ring-submit", callers: .completion, settings: settings, size: size)
        })

    /// The invoke rows of another worker executable (`--invoke-worker NAME=PATH`): the same host,
    /// `latency` profile, and measurement as ring-latency's, another worker.
    static func ringWorker(label: String, path: String) -> CompareTransport {
        CompareTransport(
            name: "ring-\(label)", role: .ring, summary: "FunctionHost → \(path) (`latency` wait profile; invoke only)",
            throughput: nil, pingpong: nil,
            invoke: { settings, size in
                var settings = settings
                settings.workerPath = path
                return try await CompareMeasure.invokeRing(profile: "latency", name: "ring-\(label)", settings: settings, size: size)
            })
    }

    static func stream(_ kind: StreamKind, summary: String) -> CompareTransport {
        CompareTransport(
            name: kind.rawValue, role: .baseline, summary: summary,
            throughput: { settings, size in
                try await CompareMeasure.throughput(ThroughputTransportKind(rawValue: kind.rawValue)!, profile: nil, settings: settings, size: size)
            },
            pingpong: { settings, size in
                try await CompareMeasure.pingPong(name: kind.rawValue, settings: settings, size: size) {
                    try StreamPingPongClient(kind: kind, maxSize: size)
                }
            },
            invoke: nil)
    }

    /// The baseline each scenario's "× base" column divides by.
    static func baselineName(for scenario: CompareScenario) -> String {
        switch scenario {
        case .throughput, .pingpong: "unix"
        case .invoke: "grpc-h2-unix"
        }
    }
}
