// ServerConnection — one client's ring connection on the server: opens a stream per `streamOpen`
// frame (a new id; opens of concurrent streams may arrive in any order), routes request metadata/messages/half-close to its request sequence,
// turns a client reset into the RPC's cancellation, and ends every stream when the link ends.
import GRPCCore
import RingCore
import RingLinux
import Synchronization

/// A stream accepted on a connection, ready for the server's stream handler.
struct AcceptedStream: Sendable {
    let stream: RPCStream<RPCAsyncSequence<RPCRequestPart<[UInt8]>, any Error>, RPCWriter<RPCResponsePart<[UInt8]>>.Closable>
    let connection: ServerConnection
    let streamId: UInt64
    /// Identifies this stream among the ones a client may open later under the same id.
    let writer: ResponseWriter
}

final class ServerConnection: Sendable {
    typealias Part = RPCRequestPart<[UInt8]>
    typealias Continuation = AsyncThrowingStream<Part, any Error>.Continuation

    let link: RingLink
    private let resolveMethod: @Sendable (String) -> MethodDescriptor?
    private let deliver: @Sendable (AcceptedStream) -> Bool
    private let onClosed: @Sendable (ServerConnection) -> Void

    private struct Entry {
        var requests: Continuation
        /// The requests' lifecycle (StreamLifecycle+StateMachine.swift); the responses' is the writer's.
        var requestState = ServerRequestsStateMachine()
        var writer: ResponseWriter
        /// Response messages: what the client lets us send (shared with `writer`).
        var sendWindow: SendWindow
        /// Request messages: what we let the client send.
        var receiveWindow = ReceiveWindow()
        var cancellation: ServerContext.RPCCancellationHandle?
    }
    private struct State {
        var highestID: UInt64 = 0
        var streams: [UInt64: Entry] = [:]
        /// Refusals (a status for a stream that never reached a handler) still being sent: they
        /// count against the concurrent-stream limit, so a client that opens and never reads
        /// cannot make the server buffer refusals without bound.
        var refusing = 0
        var draining = false
        var ended: GRPCLinkEnd?
    }
    private let state = RingMutex(State())

    init(
        link: RingLink, resolveMethod: @escaping @Sendable (String) -> MethodDescriptor?,
        deliver: @escaping @Sendable (AcceptedStream) -> Bool, onClosed: @escaping @Sendable (ServerConnection) -> Void
    ) {
        self.link = link
        self.resolveMethod = resolveMethod
        self.deliver = deliver
        self.onClosed = onClosed
    }

    /// Sends our handshake (the first frame on our ring, before any stream frame), then starts reading.
    func start() throws {
        try link.sendHandshake()
        link.start(onFrame: { [self] frame in handle(frame) }, onEnd: { [self] end in ended(end) })
    }

    /// Graceful shutdown: refuse new streams; fire the cancellation handle of every open RPC (as
    /// GRPCCore documents — "the server began shutting down" — and the HTTP/2 server does: a handler
    /// that waits for it ends, one that does not keeps running); close the connection once the open
    /// streams are done.
    func drain() {
        let (idle, handles) = state.withLock { state in
            state.draining = true
            return (state.streams.isEmpty && state.ended == nil, state.streams.values.compactMap(\.cancellation))
        }
        for handle in handles { handle.cancel() }
        if idle { Task { await link.close(ownsReactor: false) } }
    }

    /// Abrupt stop: close now (open streams end with `unavailable` on both sides).
    func closeNow() async { await link.close(ownsReactor: false) }

    /// Abrupt stop from a synchronous context (`listen` being cancelled): the outbound ring closes
    /// at once, so no handler interrupted by the cancellation can still send a status — the client
    /// sees the connection end (`unavailable`), as over HTTP/2 — and the rest of the close follows.
    func abortNow() {
        link.closeOutbound()
        Task { await closeNow() }
    }

    /// The handler task registers the RPC's cancellation handle; a reset that came first (the
    /// stream is gone, or its id already belongs to a newer stream) or a drain that came first cancels it now.
    func register(_ handle: ServerContext.RPCCancellationHandle, for accepted: AcceptedStream) {
        let cancelNow = state.withLock { state -> Bool in
            guard let entry = state.streams[accepted.streamId], entry.writer === accepted.writer else { return true }
            state.streams[accepted.streamId]!.cancellation = handle
            // A stream accepted before the drain whose handler registers after it: shutting down
            // began, so its handle fires too.
            return entry.requestState.resetByClient || state.draining
        }
        if cancelNow { handle.cancel() }
    }

    // MARK: Inbound

    private func handle(_ frame: InboundFrame) -> String? {
        let id = frame.streamId
        switch frame.kind {
        case .streamOpen: return open(frame)
        case .streamMessage:
            let halfClose = frame.flags.contains(.endOfStream)
            if halfClose {
                guard frame.payload.isEmpty else { return "stream \(id): half-close with \(frame.payload.count) payload bytes" }
            } else {
                guard frame.flags.isEmpty else { return "stream \(id): message with flags \(frame.flags.rawValue)" }
            }
            let count = frame.payload.count
            enum Step { case unknown, drop, deliver(Continuation), overrun }
            let step: Step = state.withLock { state in
                guard id <= state.highestID && id > 0 else { return .unknown }
                // Gone, or ended already (a reset or status crossed this frame): dropped.
                guard var entry = state.streams[id] else { return .drop }
                defer { state.streams[id] = entry }
                guard (halfClose ? entry.requestState.halfClose() : entry.requestState.message()) == .deliver else { return .drop }
                if !halfClose, !entry.receiveWindow.received(count) { return .overrun }
                return .deliver(entry.requests)
            }
            switch step {
            case .unknown: return "message on stream \(id), which was never opened"
            case .overrun: return "stream \(id): the client sent beyond its flow-control window"
            case .drop: break
            case .deliver(let requests):
                if halfClose { requests.finish() } else { requests.yield(.message([UInt8](frame.payload))) }
            }
            return nil
        case .streamCredit:
            let (entry, known) = state.withLock { ($0.streams[id], id <= $0.highestID && id > 0) }
            guard known else { return "credit for stream \(id), which was never opened" }
            let credit: Int
            do { credit = try StreamFlow.decodeCredit(frame.payload) } catch { return "stream \(id): \(error)" }
            guard entry?.sendWindow.grant(credit) ?? true else { return "stream \(id): credit beyond the largest window" }
            return nil
        case .streamReset:
            let known = state.withLock { id <= $0.highestID && id > 0 }
            guard known else { return "reset of stream \(id), which was never opened" }
            do { _ = try StreamWire.decodeReset(frame.payload, limits: link.limits) } catch { return "stream \(id): \(error)" }
            clientReset(id)
            return nil
        default:
            return "client sent a \(frame.kind) frame on stream \(id)"
        }
    }

    private func open(_ frame: InboundFrame) -> String? {
        let id = frame.streamId
        let open: StreamWire.Open
        do { open = try StreamWire.decodeOpen(frame.payload, limits: link.limits) } catch { return "stream \(id): \(error)" }
        guard frame.flags.subtracting(.endOfStream).isEmpty else { return "stream \(id): open with flags \(frame.flags.rawValue)" }
        let (requests, continuation) = AsyncThrowingStream.makeStream(of: Part.self)
        let sendWindow = SendWindow()
        let writer = ResponseWriter(link: link, streamId: id, window: sendWindow) { [weak self] writer in self?.finishStream(id, writer: writer) }
        enum Decision { case accepted, refused, violation(String) }
        let maxStreams = link.limits.maxConcurrentStreams
        let decision: Decision = state.withLock { state in
            guard id > 0, state.streams[id] == nil else { return .violation("stream \(id) opened while it is open") }
            state.highestID = max(state.highestID, id)
            guard state.streams.count + state.refusing < maxStreams else { return .violation("more than \(maxStreams) concurrent streams") }
            if state.draining || state.ended != nil { return .refused }
            var entry = Entry(requests: continuation, writer: writer, sendWindow: sendWindow)
            if let message = open.message { _ = entry.receiveWindow.received(message.count) }  // the first message always fits
            state.streams[id] = entry
            return .accepted
        }
        let isAccepted: Bool
        switch decision {
        case .violation(let violation): return violation
        case .accepted: isAccepted = true
        case .refused: isAccepted = false
        }
        guard isAccepted, let descriptor = resolveMethod(open.method) else {
            if isAccepted {
                state.withLock { _ = $0.streams.removeValue(forKey: id) }
                refuse(id, Status(code: .unimplemented, message: "malformed method path \(open.method)"))
            } else {
                refuse(id, Status(code: .unavailable, message: "the server is shutting down"))
            }
            return nil
        }
        continuation.yield(.metadata(open.metadata))
        if let message = open.message { continuation.yield(.message(message)) }
        if frame.flags.contains(.endOfStream) {
            continuation.finish()
            state.withLock { _ = $0.streams[id]?.requestState.halfClose() }
        }
        let parts = RequestParts(base: requests) { [weak self] bytes in await self?.consumed(id, writer: writer, bytes: bytes) }
        let stream = RPCStream(descriptor: descriptor, inbound: RPCAsyncSequence(wrapping: parts), outbound: RPCWriter.Closable(wrapping: writer))
        if !deliver(AcceptedStream(stream: stream, connection: self, streamId: id, writer: writer)) {
            state.withLock { _ = $0.streams.removeValue(forKey: id) }
            continuation.finish(throwing: RPCError(code: .unavailable, message: "the server is shutting down"))
            refuse(id, Status(code: .unavailable, message: "the server is shutting down"))
        }
        return nil
    }

    /// The handler consumed a request message of `bytes`: grants the client credit once half a
    /// window was consumed (only while `id` still names the stream `writer` belongs to).
    private func consumed(_ id: UInt64, writer: ResponseWriter, bytes: Int) async {
        let credit = state.withLock { state -> Int? in
            guard state.streams[id]?.writer === writer else { return nil }
            return state.streams[id]!.receiveWindow.consume(bytes)
        }
        guard let credit else { return }
        try? await link.send(.streamCredit, streamId: id, payload: StreamFlow.encodeCredit(credit))
    }

    /// Answers a stream that never reached a handler with `status`, counted in `refusing` until
    /// sent. Only the reader task opens and refuses streams, so the limit check in `open` and
    /// this count cannot interleave with another open.
    private func refuse(_ id: UInt64, _ status: Status) {
        state.withLock { $0.refusing += 1 }
        Task {
            try? await link.send(.streamStatus, streamId: id, payload: StreamWire.encodeStatus(status, trailers: [:]))
            state.withLock { $0.refusing -= 1 }
        }
    }

    private func clientReset(_ id: UInt64) {
        guard let entry = state.withLock({ state -> Entry? in
            guard state.streams[id] != nil else { return nil }
            _ = state.streams[id]!.requestState.reset()
            return state.streams[id]
        }) else { return }
        entry.writer.clientReset()
        let error = RPCError(code: .cancelled, message: "the client cancelled the RPC")
        entry.requests.finish(throwing: error)
        entry.sendWindow.end(error)
        entry.cancellation?.cancel()
        finishStream(id, writer: entry.writer)
    }

    /// Forgets a finished stream — only if `id` still names the stream `writer` belongs to (after a
    /// reset the client may open a new stream under the same id); a draining connection closes
    /// with its last stream.
    private func finishStream(_ id: UInt64, writer: ResponseWriter) {
        let (close, window) = state.withLock { state -> (Bool, SendWindow?) in
            guard state.streams[id]?.writer === writer else { return (false, nil) }
            let window = state.streams.removeValue(forKey: id)?.sendWindow
            return (state.draining && state.streams.isEmpty && state.ended == nil, window)
        }
        window?.end(RPCError(code: .failedPrecondition, message: "the response stream already ended"))
        if close { Task { await link.close(ownsReactor: false) } }
    }

    private func ended(_ end: GRPCLinkEnd) {
        let streams = state.withLock { state in
            state.ended = state.ended ?? end
            defer { state.streams.removeAll() }
            return Array(state.streams.values)
        }
        let error = end.streamError
        for entry in streams {
            entry.writer.clientReset()
            entry.requests.finish(throwing: error)
            entry.sendWindow.end(error)
            entry.cancellation?.cancel()
        }
        onClosed(self)
    }
}
