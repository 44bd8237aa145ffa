/// A row that could not be measured. A failing row never aborts a run: it stays in the report's
/// `results` in table order as a `BenchResult` whose `failure` holds the reason (and whose figures
/// are zero — read `failure` first), and the report lists it again in `failures`, so a reader
/// that only checks `failures.isEmpty` notices it.
package struct BenchFailure: Codable, Sendable, Equatable {
    package var scenario: String
    package var transport: String
    package var messageSize: Int
    package var concurrency: Int
    package var workers: Int
    /// The error the measurement threw, as text (`unavailable: "Stream unexpectedly closed."`).
    package var reason: String

    package init(scenario: String, transport: String, messageSize: Int, concurrency: Int = 1, workers: Int = 1, reason: String) {
        self.scenario = scenario
        self.transport = transport
        self.messageSize = messageSize
        self.concurrency = concurrency
        self.workers = workers
        self.reason = reason
    }

    /// The failure a failed row records; nil for a measured row.
    package init?(_ result: BenchResult) {
        guard let reason = result.failure else { return nil }
        self.init(
            scenario: result.scenario, transport: result.transport, messageSize: result.messageSize, concurrency: result.concurrency,
            workers: result.workers, reason: reason)
    }
}

extension BenchResult {
    /// The row of a measurement that threw: no repetitions, zero rates, `failure` = the reason.
    package static func failed(_ failure: BenchFailure) -> BenchResult {
        var result = BenchResult(
            scenario: failure.scenario, transport: failure.transport, messageSize: failure.messageSize, rates: Summary([0]),
            repetitions: 0, parameters: [:], concurrency: failure.concurrency, workers: failure.workers)
        result.failure = failure.reason
        return result
    }

    /// True when the row was measured (its figures mean something).
    package var isMeasured: Bool { failure == nil }
}
