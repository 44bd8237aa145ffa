// HTTPHostStats — what the HTTP host counts, exactly: every request it answered, by outcome.
// `GET /_stats` returns them as JSON, and the host writes them to `--stats-file` when it stops;
// `ringbench http` reads that file for its errors and forwarding-key columns.
import Synchronization

package final class HTTPHostStats: Sendable {
    package enum Counter: String, CaseIterable, Sendable {
        /// Requests the front handed to the route (every one gets exactly one response).
        case requests
        /// Replies written as the worker gave them (any status the function chose).
        case replied
        /// 500: the reply named another request.
        case mismatchedKeys
        /// 500: the reply arrived where its forwarding key was missing.
        case missingKeys
        /// 503: the worker holding the invocation ended.
        case workerLost
        /// 503: no worker ready, or stopping.
        case unavailable
        /// 504: deadline passed.
        case timedOut
        /// 500: the worker failed or answered garbage.
        case failed
        /// Rejected by the front before any invocation (413 body too large, 400 malformed).
        case rejected
        /// Workers SIGKILLed by `--kill-every`.
        case workerKills
    }

    /// One atomic per counter (an `Atomic` cannot live in an array; a cell can).
    private final class Cell: Sendable {
        let value = Atomic<Int>(0)
    }

    private let counters: [Cell]

    package init() { counters = Counter.allCases.map { _ in Cell() } }

    package func add(_ counter: Counter, _ amount: Int = 1) {
        counters[Self.index(counter)].value.wrappingAdd(amount, ordering: .relaxed)
    }

    package subscript(_ counter: Counter) -> Int { counters[Self.index(counter)].value.load(ordering: .relaxed) }

    /// Requests handed to the route and not answered yet.
    package var inFlight: Int {
        self[.requests] - [Counter.replied, .mismatchedKeys, .missingKeys, .workerLost, .unavailable, .timedOut, .failed].reduce(0) { $0 + self[$1] }
    }

    /// Counts one outcome.
    package func count(_ outcome: RouteOutcome) {
        switch outcome {
        case .reply: add(.replied)
        case .mismatchedKey: add(.mismatchedKeys)
        case .missingKey: add(.missingKeys)
        case .workerLost: add(.workerLost)
        case .unavailable: add(.unavailable)
        case .timedOut: add(.timedOut)
        case .failed: add(.failed)
        }
    }

    /// `{"requests":…,…}` in the order of `Counter`, plus the route's name.
    package func json(route: String) -> String {
        let fields = Counter.allCases.map { "\"\($0.rawValue)\":\(self[$0])" }
        return "{\"route\":\"\(route)\"," + fields.joined(separator: ",") + "}"
    }

    private static func index(_ counter: Counter) -> Int { Counter.allCases.firstIndex(of: counter)! }
}
