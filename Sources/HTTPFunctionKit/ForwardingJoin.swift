// ForwardingJoin — how the gRPC route joins a reply to its HTTP request, the way hosts on a gRPC
// event stream do: a table keyed by invocation number, holding the forwarding key (the HTTP
// request's id) that the reply path needs.
//
// Correct order: the entry, with its key and the waiting caller, exists before the request is
// sent. The negative control (`--late-join`) is the original host's order: the caller sends, waits
// for the send to complete, and only then stores the key; a reply that arrives in between finds
// the entry without its key and the request fails with `RouteOutcome.missingKeyMessage`.
// Either way every request is answered exactly once and nothing hangs: the entry exists from before
// the send, so a reply, the worker's end, the deadline sweep or shutdown always finds it, and an
// outcome that arrives before the caller waits for it is kept for the caller.
import RingCore
import Synchronization

package final class ForwardingJoin: Sendable {
    struct Pending {
        let requestID: ContextID
        let deadline: ContinuousClock.Instant
        /// Whether the forwarding key is stored: from the start, or (late join) after the send.
        var keyStored: Bool
        /// The caller, once it waits for the outcome.
        var waiter: CheckedContinuation<RouteOutcome, Never>?
        /// An outcome that came before the caller waited (late join only).
        var early: RouteOutcome?
        /// Late join: the caller waiting for its send to complete.
        var sent: CheckedContinuation<Void, Never>?
    }

    private let pending = RingMutex<[UInt64: Pending]>([:])

    package init() {}

    /// Correct order: the entry, key and waiting caller, before the send.
    func open(number: UInt64, requestID: ContextID, deadline: ContinuousClock.Instant, waiter: CheckedContinuation<RouteOutcome, Never>) {
        pending.withLock { $0[number] = Pending(requestID: requestID, deadline: deadline, keyStored: true, waiter: waiter) }
    }

    /// Late join: the entry without its key, before the send; `sent` is resumed once the send
    /// completed (`markSent`) or the invocation ended without it.
    func openLate(number: UInt64, requestID: ContextID, deadline: ContinuousClock.Instant, sent: CheckedContinuation<Void, Never>) {
        pending.withLock { $0[number] = Pending(requestID: requestID, deadline: deadline, keyStored: false, sent: sent) }
    }

    /// The send completed (late join): the caller goes on to store the key.
    func markSent(number: UInt64) {
        let sent = pending.withLock { table -> CheckedContinuation<Void, Never>? in
            defer { table[number]?.sent = nil }
            return table[number]?.sent
        }
        sent?.resume()
    }

    /// The late join's store, after the send; a no-op once the invocation was answered.
    func storeKey(number: UInt64) {
        pending.withLock { $0[number]?.keyStored = true }
    }

    /// Late join: waits for the outcome (at once if it already came).
    func wait(number: UInt64) async -> RouteOutcome {
        await withCheckedContinuation { waiter in
            let early = pending.withLock { table -> RouteOutcome? in
                guard let entry = table[number] else { return .failed("invocation \(number) is not pending") }
                if let early = entry.early {
                    table[number] = nil
                    return early
                }
                table[number]?.waiter = waiter
                return nil
            }
            if let early { waiter.resume(returning: early) }
        }
    }

    /// A reply from the worker: joined by its number, then checked against the key it carries. A
    /// reply for an invocation no longer pending (timed out, or its worker already failed) is dropped.
    func deliver(_ reply: EventStreamReply) {
        resolve(reply.number) { Self.outcome(of: reply, entry: $0) }
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
        resolve(number) { _ in outcome }
    }

    /// Answers every pending invocation with `outcome` (the worker ended, or shutdown).
    func failAll(_ outcome: RouteOutcome) {
        for number in pending.withLock({ Array($0.keys) }) { fail(number: number, outcome) }
    }

    /// Answers `.timedOut` to every invocation whose deadline is at or before `now`.
    func expire(now: ContinuousClock.Instant) {
        for number in pending.withLock({ $0.filter { $0.value.deadline <= now && $0.value.early == nil }.map(\.key) }) {
            fail(number: number, .timedOut)
        }
    }

    /// The one place an invocation gets its outcome: handed to the waiting caller, or kept for it.
    /// A caller still waiting for its send is released (it then finds the outcome).
    private func resolve(_ number: UInt64, _ outcome: (Pending) -> RouteOutcome) {
        let (waiter, sent, result) = pending.withLock { table -> (CheckedContinuation<RouteOutcome, Never>?, CheckedContinuation<Void, Never>?, RouteOutcome?) in
            guard var entry = table[number], entry.early == nil else { return (nil, nil, nil) }
            let result = outcome(entry)
            if let waiter = entry.waiter {
                table[number] = nil
                return (waiter, nil, result)
            }
            let sent = entry.sent
            entry.sent = nil
            entry.early = result
            table[number] = entry
            return (nil, sent, result)
        }
        sent?.resume()
        if let waiter, let result { waiter.resume(returning: result) }
    }

    /// Invocations not answered to their caller yet.
    var count: Int { pending.withLock(\.count) }
}
