// StressLedger — the host-side record of every invocation of a stress run: issued ids that still owe
// an outcome, and the tally of verdicts. An outcome for an id that is not open is a duplicate; ids
// still open when the run closes the ledger are lost.
import Histogram
import Synchronization
import RingCore
import RingBenchKit

/// The tally of a run (also the `counts` object of the JSON report).
package struct StressCounts: Codable, Sendable, Equatable {
    package var issued: UInt64 = 0
    package var outcomes: UInt64 = 0
    /// Replies whose context and digests were all checked and matched.
    package var verified: UInt64 = 0
    package var expectedErrors: UInt64 = 0
    package var expectedErrorsByKind: [String: UInt64] = [:]
    // Violations.
    package var missingContext: UInt64 = 0
    package var mismatchedContext: UInt64 = 0
    package var payloadCorruption: UInt64 = 0
    package var lost: UInt64 = 0
    package var duplicate: UInt64 = 0
    package var unexpectedErrors: UInt64 = 0
    package var unexpectedErrorsByKind: [String: UInt64] = [:]
    /// The first few violations, described (for diagnosis).
    package var examples: [String] = []

    package init() {}

    package var violations: UInt64 { missingContext + mismatchedContext + payloadCorruption + lost + duplicate + unexpectedErrors }
}

final class StressLedger: Sendable {
    static let exampleLimit = 8

    private struct State {
        var open: Set<UInt64> = []
        var counts = StressCounts()
        var closed = false
        var latency = Histogram<UInt64>(highestTrackableValue: 600_000_000_000, numberOfSignificantValueDigits: .three)
    }

    private let state = RingMutex(State())
    private let nextID = Atomic<UInt64>(1)
    let limit: UInt64?

    init(limit: UInt64?) { self.limit = limit }

    /// The next invocation id (1, 2, 3 …), or nil once `limit` ids were handed out.
    func takeID() -> UInt64? {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        if let limit, id > limit { return nil }
        return id
    }

    /// Records that `id` was sent; it owes one outcome. False once the ledger is closed.
    func issue(_ id: UInt64) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.open.insert(id)
            state.counts.issued += 1
            return true
        }
    }

    /// Records the outcome of `id`.
    func record(_ id: UInt64, _ verdict: StressVerdict, latencyNanoseconds: UInt64) {
        state.withLock { state in
            guard !state.closed else { return }  // counted as lost when the ledger closed
            state.counts.outcomes += 1
            guard state.open.remove(id) != nil else {
                state.counts.duplicate += 1
                Self.example(&state.counts, "invocation \(id): a second outcome (\(verdict))")
                return
            }
            switch verdict {
            case .verified:
                state.counts.verified += 1
                state.latency.record(latencyNanoseconds)
            case .expectedError(let kind):
                state.counts.expectedErrors += 1
                state.counts.expectedErrorsByKind[kind, default: 0] += 1
            case .missingContext:
                state.counts.missingContext += 1
                Self.example(&state.counts, "invocation \(id): missing context")
            case .mismatchedContext(let detail):
                state.counts.mismatchedContext += 1
                Self.example(&state.counts, "invocation \(id): mismatched context: \(detail)")
            case .payloadCorruption(let detail):
                state.counts.payloadCorruption += 1
                Self.example(&state.counts, "invocation \(id): payload corruption: \(detail)")
            case .unexpectedError(let kind, let detail):
                state.counts.unexpectedErrors += 1
                state.counts.unexpectedErrorsByKind[kind, default: 0] += 1
                Self.example(&state.counts, "invocation \(id): unexpected \(kind): \(detail)")
            }
        }
    }

    private static func example(_ counts: inout StressCounts, _ text: String) {
        if counts.examples.count < exampleLimit { counts.examples.append(text) }
    }

    /// Closes the ledger: every id still open is lost; later outcomes are ignored.
    func close() -> StressCounts {
        state.withLock { state in
            if !state.closed {
                state.closed = true
                state.counts.lost = UInt64(state.open.count)
                for id in state.open.sorted().prefix(Self.exampleLimit) { Self.example(&state.counts, "invocation \(id): no outcome (lost)") }
            }
            return state.counts
        }
    }

    var counts: StressCounts { state.withLock { $0.counts } }

    var latency: LatencyPercentiles? {
        state.withLock { state in
            guard state.latency.totalCount > 0 else { return nil }
            let h = state.latency
            return LatencyPercentiles(
                p50: h.valueAtPercentile(50), p90: h.valueAtPercentile(90), p99: h.valueAtPercentile(99),
                p999: h.valueAtPercentile(99.9), max: h.max)
        }
    }
}
