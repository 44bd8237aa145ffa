// ForwardingJoin — how the gRPC route joins a reply to its HTTP request, the way hosts on a gRPC
// event stream do: a table keyed by invocation number, holding the forwarding key (the HTTP
// request's id) that the reply path needs.
//
// Correct order: the key is stored before the request is sent. The negative control
// (`--late-join`) stores it after the send returns — the order that lost the key in the original
// host: a fast reply finds the entry without its key and the request fails with
// `RouteOutcome.missingKeyMessage`. Either way every request is answered exactly once: the table
// also holds the waiting caller from before the send, so a reply, the worker's end, the deadline
// sweep or shutdown always finds someone to answer, and nothing hangs.
import RingCore
import Synchronization

package final class ForwardingJoin: Sendable {
    struct Pending {
        let requestID: ContextID
        let continuation: CheckedContinuation<RouteOutcome, Never>
        let deadline: ContinuousClock.Instant
        /// Whether the forwarding key is stored: from the start, or (late join) once the send returned.
        var keyStored: Bool
    }

    private let pending = Mutex<[UInt64: Pending]>([:])

    package init() {}

    /// Opens the entry of an invocation about to be sent. With `keyStored` false (late join) the
    /// key is stored by `storeKey` after the send.
    func open(number: UInt64, requestID: ContextID, keyStored: Bool, deadline: ContinuousClock.Instant, continuation: CheckedContinuation<RouteOutcome, Never>) {
        pending.withLock { $0[number] = Pending(requestID: requestID, continuation: continuation, deadline: deadline, keyStored: keyStored) }
    }

    /// The late join's store, after the send; a no-op once the invocation was answered.
    func storeKey(number: UInt64) {
        pending.withLock { $0[number]?.keyStored = true }
    }

    /// A reply from the worker: joined by its number, then checked against the key it carries.
    /// A reply for an invocation no longer pending (timed out, or its worker already failed) is
    /// dropped.
    func deliver(_ reply: EventStreamReply) {
        guard let entry = pending.withLock({ $0.removeValue(forKey: reply.number) }) else { return }
        entry.continuation.resume(returning: Self.outcome(of: reply, entry: entry))
    }

    static func outcome(of reply: EventStreamReply, entry: Pending) -> RouteOutcome {
        guard entry.keyStored else { return .missingKey }
        guard reply.context.forwardingId != .zero else { return .missingKey }
        guard reply.context.forwardingId == entry.requestID else {
            return .mismatchedKey(expected: entry.requestID, received: reply.context.forwardingId)
        }
        guard reply.succeeded else { return .failed(String(decoding: reply.payload, as: UTF8.self)) }
        do { return .reply(try HTTPPayload.decodeReply(reply.payload)) } catch { return .failed("\(error)") }
    }

    /// Answers one invocation without a reply (its send failed).
    func fail(number: UInt64, _ outcome: RouteOutcome) {
        pending.withLock { $0.removeValue(forKey: number) }?.continuation.resume(returning: outcome)
    }

    /// Answers every pending invocation with `outcome` (the worker ended, or shutdown).
    func failAll(_ outcome: RouteOutcome) {
        let entries = pending.withLock { table in
            defer { table.removeAll() }
            return Array(table.values)
        }
        for entry in entries { entry.continuation.resume(returning: outcome) }
    }

    /// Answers `.timedOut` to every invocation whose deadline is at or before `now`.
    func expire(now: ContinuousClock.Instant) {
        let expired = pending.withLock { table -> [Pending] in
            let numbers = table.filter { $0.value.deadline <= now }.map(\.key)
            return numbers.compactMap { table.removeValue(forKey: $0) }
        }
        for entry in expired { entry.continuation.resume(returning: .timedOut) }
    }

    /// Invocations waiting for a reply.
    var count: Int { pending.withLock(\.count) }
}
