// StressSideTable — the negative control's deliberately broken bookkeeping: the forwarding context
// kept in a per-invocation side table that is written *after* the request is sent and read by the
// reply path, as the original host did. RingTransport never does this; the table exists only so that
// `ringbench stress --negative-control` can prove the audit detects the resulting loss.
import RingCore
import RingBenchKit
import Synchronization

final class StressSideTable: Sendable {
    private struct State {
        var entries: [UInt64: ForwardingContext] = [:]
        /// Ids whose reply path looked before the store: the store came too late.
        var lookedTooEarly: Set<UInt64> = []
        var dropped: UInt64 = 0
        var lateStores: UInt64 = 0
    }

    private let state = RingMutex(State())

    /// The sender's step after sending: publish the context (unless this store is dropped).
    func store(_ id: UInt64, _ context: ForwardingContext, drop: Bool) {
        state.withLock { state in
            if drop {
                state.dropped += 1
                state.lookedTooEarly.remove(id)
                return
            }
            if state.lookedTooEarly.remove(id) != nil {
                state.lateStores += 1
                return
            }
            state.entries[id] = context
        }
    }

    /// The reply path's step: look the context up (and forget it).
    func take(_ id: UInt64) -> ForwardingContext? {
        state.withLock { state in
            if let context = state.entries.removeValue(forKey: id) { return context }
            state.lookedTooEarly.insert(id)
            return nil
        }
    }

    /// Forgets `id` once its outcome is recorded (a failed invocation's reply path never looked).
    func forget(_ id: UInt64) {
        state.withLock { state in
            state.entries.removeValue(forKey: id)
            state.lookedTooEarly.remove(id)
        }
    }

    /// (stores dropped, stores that came after the reply path had looked)
    var tally: (dropped: UInt64, late: UInt64) { state.withLock { ($0.dropped, $0.lateStores) } }
}
