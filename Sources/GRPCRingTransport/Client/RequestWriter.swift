// RequestWriter — the client's outbound half of a stream. Request metadata is held until the first
// message (or the half-close) so both travel in one `streamOpen` frame; if no message follows
// before a flush task gets to run (a bidirectional client that waits for the server first), the
// metadata goes alone. Frames of one stream are sent in order: a message that finds the metadata
// already taken by the flush waits for that open frame to be written first; a reset is sent only
// for a stream whose open frame was sent, after that send completed (the server takes any other
// reset for a protocol violation); and once reset, the stream sends nothing more. The reset comes
// from the task that ran `withStream`, which GRPCCore may leave while its request task still runs.
import GRPCCore
import RingCore
import Synchronization

final class RequestWriter: ClosableRPCWriterProtocol, Sendable {
    typealias Element = RPCRequestPart<[UInt8]>

    private let link: RingLink
    private let streamId: UInt64
    private let method: String
    /// Request messages wait here for the server's credit (StreamFlowControl.swift).
    private let window: SendWindow
    /// Ends the local response stream with an error (the request side failed).
    private let abortResponse: @Sendable (RPCError) -> Void
    private struct State {
        /// The stream's request lifecycle (StreamLifecycle+StateMachine.swift).
        var machine = ClientRequestsStateMachine()
        /// The metadata while `machine.open == .held`.
        var pending: Metadata?
        var flush: Task<Void, any Error>?
        /// Resets waiting for the open frame's send to return.
        var openWaiters: [CheckedContinuation<Void, Never>] = []

        /// Takes the held metadata for an open frame the machine decided to send now.
        mutating func takePending() -> Metadata { pending.take() ?? [:] }
    }
    private let state = RingMutex(State())

    init(link: RingLink, streamId: UInt64, method: String, window: SendWindow, abortResponse: @escaping @Sendable (RPCError) -> Void) {
        self.link = link
        self.streamId = streamId
        self.method = method
        self.window = window
        self.abortResponse = abortResponse
    }

    func write(_ element: Element) async throws {
        switch element {
        case .metadata(let metadata):
            let decision = state.withLock { state -> ClientRequestsStateMachine.Metadata in
                let decision = state.machine.writeMetadata()
                guard decision == .hold else { return decision }
                state.pending = metadata
                state.flush = Task { [self] in
                    await Task.yield()
                    guard let metadata = self.state.withLock({ $0.machine.takeForFlush() ? $0.takePending() : nil }) else { return }
                    defer { openDone() }
                    try await link.send(.streamOpen, streamId: streamId, payload: StreamWire.encodeOpen(method: method, metadata: metadata, message: nil))
                }
                return decision
            }
            if decision == .refuseReset { throw RPCError(code: .cancelled, message: "the stream was already reset by the client") }
        case .message(let bytes):
            if state.withLock(\.machine.finished) { throw RPCError(code: .failedPrecondition, message: "the request stream is already finished") }
            try await window.acquire(bytes.count)
            let (decision, metadata, flush) = state.withLock { state -> (ClientRequestsStateMachine.Message, Metadata?, Task<Void, any Error>?) in
                let decision = state.machine.writeMessage()
                return (decision, decision == .sendWithOpen ? state.takePending() : nil, state.flush)
            }
            switch decision {
            case .refuseFinished:
                throw RPCError(code: .failedPrecondition, message: "the request stream is already finished")
            case .sendWithOpen:
                defer { openDone() }
                try await link.send(.streamOpen, streamId: streamId, payload: StreamWire.encodeOpen(method: method, metadata: metadata ?? [:], message: bytes))
            case .sendAfterOpen:
                try await flush?.value
                try await link.send(.streamMessage, streamId: streamId, payload: bytes)
            }
        }
    }

    func write(contentsOf elements: some Sequence<Element>) async throws {
        for element in elements { try await write(element) }
    }

    /// The send of the open frame returned: a waiting reset may go.
    private func openDone() {
        let waiters = state.withLock { state in
            state.machine.openSendReturned()
            defer { state.openWaiters = [] }
            return state.openWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Half-close: the client sends nothing more.
    func finish() async {
        let (decision, metadata, flush) = state.withLock { state -> (ClientRequestsStateMachine.Finish, Metadata?, Task<Void, any Error>?) in
            let decision = state.machine.finish()
            return (decision, decision == .sendOpenWithHalfClose ? state.takePending() : nil, state.flush)
        }
        switch decision {
        case .alreadyFinished:
            return
        case .sendOpenWithHalfClose:
            defer { openDone() }
            try? await link.send(
                .streamOpen, flags: .endOfStream, streamId: streamId, payload: StreamWire.encodeOpen(method: method, metadata: metadata ?? [:], message: nil))
        case .sendHalfCloseAfterOpen:
            do { try await flush?.value } catch { return }
            try? await link.send(.streamMessage, flags: .endOfStream, streamId: streamId, payload: [])
        }
    }

    /// The request side failed (the producer threw): the RPC ends with that error here, and the
    /// server, if it knows the stream, is told with a reset.
    func finish(throwing error: any Error) async {
        guard state.withLock({ $0.machine.finishWithError() }) else { return }
        let rpcError = error as? RPCError ?? RPCError(code: .unknown, message: "the request stream failed: \(error)")
        abortResponse(rpcError)
        await sendReset(rpcError)
    }

    /// Tells the server the client gave up on the stream — only if its open frame was sent (if it
    /// is being sent, the reset waits for that send to return); metadata still held back is
    /// discarded, and nothing of this stream is sent after the reset.
    func sendReset(_ error: any Error) async {
        let decision = state.withLock { state -> ClientRequestsStateMachine.Reset in
            let decision = state.machine.resetStream()
            if state.machine.open == .discarded { state.pending = nil }
            return decision
        }
        switch decision {
        case .nothing: return
        case .sendNow: break
        case .sendAfterOpen:
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    guard state.machine.open == .sending else { return true }
                    state.openWaiters.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        }
        let message = (error as? RPCError)?.message ?? "the client cancelled the RPC"
        try? await link.send(.streamReset, streamId: streamId, payload: StreamWire.encodeReset(code: .cancelled, message: message))
    }
}
