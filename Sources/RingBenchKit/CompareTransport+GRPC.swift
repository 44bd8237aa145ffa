/// The gRPC rows of `ringbench compare`: grpc-swift 2 unary RPCs measured by `GRPCBench` (issue 5,
/// `GRPC*.swift`). "grpc-h2-unix" is HTTP/2 on a Unix socket — what a host uses today and the base
/// of the invoke scenario's "× base"; "grpc-ring" is the same client and server over the rings.
/// Ping-pong is a unary RPC with one in flight; invoke is unary RPCs at `--concurrency`.
extension CompareTransport {
    static let grpc: [CompareTransport] = [
        grpc(.h2Unix, name: "grpc-h2-unix", role: .grpc, summary: "grpc-swift 2, HTTP/2 over a Unix socket, unary RPCs"),
        grpc(.ring, name: "grpc-ring", role: .grpc, summary: "grpc-swift 2 over the rings, unary RPCs"),
    ]

    static func grpc(_ transport: GRPCBenchTransport, name: String, role: Role, summary: String) -> CompareTransport {
        CompareTransport(
            name: name, role: role, summary: summary, throughput: nil,
            pingpong: { settings, size in
                try await CompareMeasure.grpc(transport, name: name, scenario: .pingpong, concurrency: 1, settings: settings, size: size)
            },
            invoke: { settings, size in
                try await CompareMeasure.grpc(
                    transport, name: name, scenario: .invoke, concurrency: settings.concurrency, settings: settings, size: size)
            })
    }
}

extension CompareMeasure {
    /// A unary RPC over HTTP/2 takes milliseconds on a busy VM: shorter windows can end empty.
    static let minimumGRPCSeconds = 0.1

    /// `repetitions` runs of `GRPCBench` (unary RPCs, closed loop); rates as median [min–max],
    /// latency percentiles and counters as the medians of the runs'.
    static func grpc(
        _ transport: GRPCBenchTransport, name: String, scenario: CompareScenario, concurrency: Int, settings: CompareSettings, size: Int
    ) async throws -> BenchResult {
        var runs: [BenchResult] = []
        for _ in 0..<settings.repetitions {
            runs.append(try await GRPCBench.run(
                transport: transport, scenario: .unary, messageSize: size, concurrency: concurrency,
                duration: .nanoseconds(Int64(max(settings.seconds, minimumGRPCSeconds) * 1e9))))
        }
        let rates = Summary(runs.map(\.messagesPerSecond))
        var result = BenchResult(
            scenario: scenario.rawValue, transport: name, messageSize: size, rates: rates, repetitions: runs.count,
            parameters: runs[0].parameters.merging(["rpc": "unary", "grpcTransport": transport.rawValue]) { $1 },
            concurrency: concurrency, workers: 1)
        result.latencyNanoseconds = LatencyPercentiles.median(of: runs.compactMap(\.latencyNanoseconds))
        func median(_ key: KeyPath<BenchResult, Double?>) -> Double? {
            let values = runs.compactMap { $0[keyPath: key] }
            return values.isEmpty ? nil : Summary(values).median
        }
        // GRPCBench counts CPU per million RPCs; the table counts per million messages (two per RPC).
        result.cpuSecondsPerMillion = median(\.cpuSecondsPerMillion).map { $0 / 2 }
        // Context switches and syscalls are not measured by GRPCBench (its server process is private
        // to it): they stay empty rather than counting one side only.
        result.load = "closed"
        return result
    }
}
