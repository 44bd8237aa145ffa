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
        var pending: Metadata?
        var flush: Task<Void, any Error>?
        var metadataWritten = false
        /// The open frame was handed to a send (by a message, the half-close or the flush).
        var openSent = false
        /// That send has not returned yet; `openWaiters` resume when it does.
        var openSending = false
        var openWaiters: [CheckedContinuation<Void, Never>] = []
        var finished = false
        var reset = false

        /// Takes the held metadata to send as the open frame (nil if taken or discarded already).
        mutating func takeForOpen() -> Metadata? {
            guard let metadata = pending.take() else { return nil }
            openSent = true
            openSending = true
            return metadata
        }
    }
    private let state = Mutex(State())

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
            let reset = state.withLock { state -> Bool in
                precondition(!state.metadataWritten, "request metadata written twice")
                state.metadataWritten = true
                // Reset before GRPCCore's request task got here: the server must never see it.
                if state.reset { return true }
                state.pending = metadata
                state.flush = Task { [self] in
                    await Task.yield()
                    guard let metadata = self.state.withLock({ $0.takeForOpen() }) else { return }
                    defer { openDone() }
                    try await link.send(.streamOpen, streamId: streamId, payload: StreamWire.encodeOpen(method: method, metadata: metadata, message: nil))
                }
                return false
            }
            if reset { throw RPCError(code: .cancelled, message: "the stream was already reset by the client") }
        case .message(let bytes):
            if state.withLock(\.finished) { throw RPCError(code: .failedPrecondition, message: "the request stream is already finished") }
            try await window.acquire(bytes.count)
            let (metadata, flush, finished) = state.withLock { state in
                state.finished ? (nil, nil, true) : (state.takeForOpen(), state.flush, false)
            }
            if finished { throw RPCError(code: .failedPrecondition, message: "the request stream is already finished") }
            if let metadata {
                defer { openDone() }
                try await link.send(.streamOpen, streamId: streamId, payload: StreamWire.encodeOpen(method: method, metadata: metadata, message: bytes))
            } else {
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
            state.openSending = false
            defer { state.openWaiters = [] }
            return state.openWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Half-close: the client sends nothing more.
    func finish() async {
        let (metadata, flush, already) = state.withLock { state in
            defer { state.finished = true }
            return state.finished ? (nil, nil, true) : (state.takeForOpen(), state.flush, false)
        }
        if already { return }
        if let metadata {
            defer { openDone() }
            try? await link.send(
                .streamOpen, flags: .endOfStream, streamId: streamId, payload: StreamWire.encodeOpen(method: method, metadata: metadata, message: nil))
        } else {
            do { try await flush?.value } catch { return }
            try? await link.send(.streamMessage, flags: .endOfStream, streamId: streamId, payload: [])
        }
    }

    /// The request side failed (the producer threw): the RPC ends with that error here, and the
    /// server, if it knows the stream, is told with a reset.
    func finish(throwing error: any Error) async {
        let already = state.withLock { state in
            defer { state.finished = true }
            return state.finished
        }
        if already { return }
        let rpcError = error as? RPCError ?? RPCError(code: .unknown, message: "the request stream failed: \(error)")
        abortResponse(rpcError)
        await sendReset(rpcError)
    }

    /// Tells the server the client gave up on the stream — only if its open frame was sent (if it
    /// is being sent, the reset waits for that send to return); metadata still held back is
    /// discarded, and nothing of this stream is sent after the reset.
    func sendReset(_ error: any Error) async {
        let send = state.withLock { state in
            defer {
                state.reset = true
                state.finished = true
            }
            state.pending = nil
            return state.openSent && !state.reset
        }
        guard send else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                guard state.openSending else { return true }
                state.openWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
        let message = (error as? RPCError)?.message ?? "the client cancelled the RPC"
        try? await link.send(.streamReset, streamId: streamId, payload: StreamWire.encodeReset(code: .cancelled, message: message))
    }
}
