// RequestWriter — the client's outbound half of a stream. Request metadata is held until the first
// message (or the half-close) so both travel in one `streamOpen` frame; if no message follows
// before a flush task gets to run (a bidirectional client that waits for the server first), the
// metadata goes alone. Frames of one stream are sent in order: a message that finds the metadata
// already taken by the flush waits for that open frame to be written first.
import GRPCCore
import RingCore
import Synchronization

final class RequestWriter: ClosableRPCWriterProtocol, Sendable {
    typealias Element = RPCRequestPart<[UInt8]>

    private let link: RingLink
    private let streamId: UInt64
    private let method: String
    private struct State {
        var pending: Metadata?
        var flush: Task<Void, any Error>?
        var opened = false
        var finished = false
        var reset = false
    }
    private let state = Mutex(State())

    init(link: RingLink, streamId: UInt64, method: String) {
        self.link = link
        self.streamId = streamId
        self.method = method
    }

    /// Whether any frame of this stream was (or is being) sent: a reset must follow if it ends early.
    var opened: Bool { state.withLock { $0.opened } }

    func write(_ element: Element) async throws {
        switch element {
        case .metadata(let metadata):
            state.withLock { state in
                precondition(!state.opened && state.pending == nil, "request metadata written twice")
                state.pending = metadata
                state.opened = true
                state.flush = Task { [self] in
                    await Task.yield()
                    guard let metadata = self.state.withLock({ $0.pending.take() }) else { return }
                    try await link.send(.streamOpen, streamId: streamId, payload: StreamWire.encodeOpen(method: method, metadata: metadata, message: nil))
                }
            }
        case .message(let bytes):
            let (metadata, flush, finished) = state.withLock { state in (state.pending.take(), state.flush, state.finished) }
            if finished { throw RPCError(code: .failedPrecondition, message: "the request stream is already finished") }
            if let metadata {
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

    /// Half-close: the client sends nothing more.
    func finish() async {
        let (metadata, flush, already) = state.withLock { state in
            defer { state.finished = true }
            return (state.pending.take(), state.flush, state.finished)
        }
        if already { return }
        if let metadata {
            try? await link.send(
                .streamOpen, flags: .endOfStream, streamId: streamId, payload: StreamWire.encodeOpen(method: method, metadata: metadata, message: nil))
        } else {
            do { try await flush?.value } catch { return }
            try? await link.send(.streamMessage, flags: .endOfStream, streamId: streamId, payload: [])
        }
    }

    /// The client abandons the stream: the server is told with a reset (if it knows the stream).
    func finish(throwing error: any Error) async {
        let (wasPending, flush, already) = state.withLock { state in
            defer { state.finished = true }
            return (state.pending.take() != nil, state.flush, state.finished)
        }
        if already || wasPending { return }  // nothing reached the server
        _ = try? await flush?.value
        await sendReset(error)
    }

    /// Tells the server the client gave up on the stream.
    func sendReset(_ error: any Error) async {
        let first = state.withLock { state in
            defer { state.reset = true }
            return !state.reset
        }
        guard first else { return }
        let message = (error as? RPCError)?.message ?? "the client cancelled the RPC"
        try? await link.send(.streamReset, streamId: streamId, payload: StreamWire.encodeReset(code: .cancelled, message: message))
    }
}
