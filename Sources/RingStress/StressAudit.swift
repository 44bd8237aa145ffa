// StressAudit — the verdict on one invocation's outcome. Pure: no I/O, no clock, so every verdict is
// tested with forged results (Tests/RingBenchKitTests/StressAuditTests.swift).
package import RingChannel
import RingBenchKit
import RingCore

/// What the audit concluded about one outcome.
package enum StressVerdict: Sendable, Equatable {
    /// The reply carried its own context and both digests matched.
    case verified
    /// The reply path had no forwarding context for the invocation.
    case missingContext
    /// The reply path's context belongs to another invocation or lost a field, or the worker saw a
    /// different context than the one sent.
    case mismatchedContext(String)
    /// The payload the worker saw, or the reply's payload, is not what was sent.
    case payloadCorruption(String)
    /// An error a fault explains (`kind` is ChannelError.kind, or "cancelled").
    case expectedError(kind: String)
    /// An error no fault explains, or a reply with a failure status.
    case unexpectedError(kind: String, detail: String)

    var isViolation: Bool {
        switch self {
        case .verified, .expectedError: false
        case .missingContext, .mismatchedContext, .payloadCorruption, .unexpectedError: true
        }
    }
}

/// Which errors the active faults explain.
package struct StressExpectations: Sendable {
    /// Workers the run killed or made hostile: their `workerExited` / `protocolViolation` are expected.
    package var killed: Set<WorkerID> = []
    package var hostile: Set<WorkerID> = []
    /// Workers the run stopped for longer than the liveness timeout: their `workerStalled` is expected.
    package var stalled: Set<WorkerID> = []
    /// Whether workers may all be down at once (kill or hostile faults on).
    package var poolMayBeEmpty = false

    package init() {}
}

package enum StressAudit {
    /// The verdict on a reply.
    /// - Parameters:
    ///   - frameContext: the context sent in the request frame (what the worker must have seen).
    ///   - replyContext: the context the reply path has (the response frame's, or the negative
    ///     control's side-table entry); nil when the reply path found none.
    static func verdict(
        on result: InvocationResult, invocation: StressInvocation, frameContext: ForwardingContext, replyContext: ForwardingContext?,
        cancelled: Bool = false
    ) -> StressVerdict {
        guard let replyContext else { return .missingContext }
        guard replyContext == invocation.context else {
            return .mismatchedContext("reply path has the context of \(replyContext.invocationId), expected \(invocation.context.invocationId)")
        }
        // A worker may answer `cancelled` to an invocation whose deadline passed or that was cancelled.
        if case .cancelled = result.status, cancelled || invocation.hasDeadline { return .expectedError(kind: "cancelledByWorker") }
        guard case .success = result.status else {
            return .unexpectedError(kind: "failureStatus", detail: "the worker answered \(result.status)")
        }
        guard let reply = StressReply(result.payload, replySize: invocation.replySize) else {
            return .payloadCorruption("reply of \(result.payload.count) bytes is shorter than its header")
        }
        guard reply.contextDigest == StressReply.contextDigest(frameContext) else {
            return .mismatchedContext("the worker saw a different context than the one sent")
        }
        guard reply.payloadCount == UInt64(invocation.request.count), reply.payloadDigest == invocation.requestDigest else {
            return .payloadCorruption("the worker saw \(reply.payloadCount) bytes with another digest (sent \(invocation.request.count))")
        }
        guard reply.tailIntact else {
            return .payloadCorruption("reply payload of \(result.payload.count) bytes does not hold the expected pattern")
        }
        return .verified
    }

    /// A reply from a worker the run made hostile may carry anything: its scribbles overwrite its own
    /// published-but-unread reply frames (the ring has no checksum; the worker owns those bytes).
    /// Such a reply's bad content is expected (`hostileReply`); from any other worker it stays a
    /// violation, and the worker is named in the example.
    static func attributing(_ verdict: StressVerdict, to worker: WorkerID, expectations: StressExpectations) -> StressVerdict {
        switch verdict {
        case .mismatchedContext(let detail), .payloadCorruption(let detail):
            if expectations.hostile.contains(worker) { return .expectedError(kind: "hostileReply") }
            return verdict == .mismatchedContext(detail) ? .mismatchedContext("\(detail) (from \(worker))") : .payloadCorruption("\(detail) (from \(worker))")
        default:
            return verdict
        }
    }

    /// The verdict on an error thrown by `invoke`.
    static func verdict(on error: any Error, invocation: StressInvocation, cancelled: Bool, expectations: StressExpectations) -> StressVerdict {
        if error is CancellationError {
            return cancelled ? .expectedError(kind: "cancelled") : .unexpectedError(kind: "cancelled", detail: "cancelled without a cancel")
        }
        guard let error = error as? ChannelError else { return .unexpectedError(kind: "other", detail: "\(error)") }
        let expected: Bool
        switch error {
        case .workerExited(let worker, _, _): expected = expectations.killed.contains(worker) || expectations.hostile.contains(worker)
        case .protocolViolation(let worker, _, _): expected = expectations.hostile.contains(worker)
        case .workerStalled(let worker, _, _): expected = expectations.stalled.contains(worker)
        case .noWorkerAvailable: expected = expectations.poolMayBeEmpty
        // Dispatched to a worker that was already ending (killed, or isolated after its scribble)
        // but not yet out of the pool's ready set.
        case .workerNotReady(let worker):
            expected = expectations.killed.contains(worker) || expectations.hostile.contains(worker) || expectations.stalled.contains(worker)
        case .deadlineExceeded: expected = invocation.hasDeadline
        default: expected = false
        }
        return expected ? .expectedError(kind: error.kind) : .unexpectedError(kind: error.kind, detail: error.description)
    }
}
