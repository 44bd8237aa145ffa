/// The rows of one `ringbench grpc` run, in table order, and their execution. A row whose
/// measurement throws is recorded as failed (with the error) and the run goes on with the next
/// row: one broken transport never costs the rows already measured.
enum GRPCRun {
    struct Row: Sendable, Equatable {
        var scenario: GRPCBenchScenario
        var transport: GRPCBenchTransport
        var size: Int
        var concurrency: Int
    }

    typealias Runner = @Sendable (Row) async throws -> BenchResult

    static func plan(scenarios: [GRPCBenchScenario], sizes: [Int], levels: [Int], transports: [GRPCBenchTransport]) -> [Row] {
        scenarios.flatMap { scenario in
            sizes.flatMap { size in
                levels.flatMap { level in
                    transports.map { Row(scenario: scenario, transport: $0, size: size, concurrency: level) }
                }
            }
        }
    }

    /// The measurement `ringbench grpc` runs for a row.
    static func measure(seconds: Double) -> Runner {
        { row in
            try await GRPCBench.run(
                transport: row.transport, scenario: row.scenario, messageSize: row.size, concurrency: row.concurrency,
                duration: .nanoseconds(Int64(seconds * 1e9)))
        }
    }

    /// Runs every row; `finished` sees each result (measured or failed) as soon as it is known.
    static func execute(_ plan: [Row], runner: Runner, finished: (Row, BenchResult) -> Void = { _, _ in }) async -> [BenchResult] {
        var results: [BenchResult] = []
        for row in plan {
            let result: BenchResult
            do {
                result = try await runner(row)
            } catch {
                result = .failed(row.failure(reason: "\(error)"))
            }
            results.append(result)
            finished(row, result)
        }
        return results
    }
}

extension GRPCRun.Row {
    /// Labelled as `GRPCBench.run` labels its measured rows.
    func failure(reason: String) -> BenchFailure {
        BenchFailure(
            scenario: "grpc-\(scenario.rawValue)", transport: "grpc-\(transport.rawValue)", messageSize: size, concurrency: concurrency,
            workers: 1, reason: reason)
    }
}
