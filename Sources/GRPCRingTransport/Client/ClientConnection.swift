// ClientConnection — one client's ring connection and its stream table: stream ids allocated here
// (1, 2, 3 … one per RPC), inbound frames routed to each stream's response sequence, and every
// stream ended with `unavailable` when the link ends.
import GRPCCore
import RingCore
import RingLinux
import Synchronization

final class ClientConnection: Sendable {
    typealias Part = RPCResponsePart<[UInt8]>
    typealias Continuation = AsyncThrowingStream<Part, any Error>.Continuation

    let link: RingLink
    private struct Entry {
        var continuation: Continuation
        /// The responses' lifecycle (StreamLifecycle+StateMachine.swift).
        var responses = ClientResponsesStateMachine()
        /// Request messages: what the server lets us send.
        let sendWindow = SendWindow()
        /// Response messages: what we let the server send.
        var receiveWindow = ReceiveWindow()
    }
    private struct State {
        var nextID: UInt64 = 1
        var streams: [UInt64: Entry] = [:]
        var ended: GRPCLinkEnd?
        var endWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = RingMutex(State())

    init(link: RingLink) { self.link = link }

    /// Sends our handshake (the first frame on our ring), then starts reading.
    func start() throws {
        try link.sendHandshake()
        link.start(onFrame: { [self] frame in handle(frame) }, onEnd: { [self] end in ended(end) })
    }

    /// Registers a new stream; throws `unavailable` once the link has ended. Returns its id, its
    /// response parts and the window its request messages wait on.
    func open() throws -> (UInt64, AsyncThrowingStream<Part, any Error>, SendWindow) {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Part.self)
        let entry = Entry(continuation: continuation)
        let result: Result<UInt64, RPCError> = state.withLock { state in
            if let ended = state.ended { return .failure(ended.streamError) }
            let id = state.nextID
            state.nextID += 1
            state.streams[id] = entry
            return .success(id)
        }
        return (try result.get(), stream, entry.sendWindow)
    }

    /// The application consumed a response message of `bytes` on stream `id`: grants the server
    /// credit once half a window was consumed.
    func consumed(_ id: UInt64, bytes: Int) async {
        guard let credit = state.withLock({ $0.streams[id]?.receiveWindow.consume(bytes) }) ?? nil else { return }
        try? await link.send(.streamCredit, streamId: id, payload: StreamFlow.encodeCredit(credit))
    }

    /// Forgets a stream the caller is done with (or whose request side failed), ending its
    /// responses with `error`; returns true if it had not ended (no status or reset arrived), so
    /// the server must be told with a reset.
    func close(_ id: UInt64, error: RPCError) -> Bool {
        guard let entry = state.withLock({ $0.streams.removeValue(forKey: id) }) else { return false }
        entry.continuation.finish(throwing: error)
        entry.sendWindow.end(error)
        return true
    }

    var hasEnded: Bool { state.withLock { $0.ended != nil } }

    /// Suspends until the link has ended.
    func waitUntilEnded() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.ended != nil { return true }
                state.endWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    // MARK: Inbound

    private func handle(_ frame: InboundFrame) -> String? {
        let id = frame.streamId
        let (entry, issued) = state.withLock { ($0.streams[id], id < $0.nextID && id > 0) }
        guard issued else { return "server sent a \(frame.kind) frame on stream \(id), which was never opened" }
        // A frame for a stream the client already closed (it sent a reset that crossed this frame).
        guard let entry else { return nil }
        switch frame.kind {
        case .streamMetadata:
            let metadata: Metadata
            do { metadata = try StreamWire.decodeMetadata(frame.payload, limits: link.limits) } catch { return "stream \(id): \(error)" }
            if let violation = decide(id, { $0.responses.metadata() }) { return violation }
            entry.continuation.yield(.metadata(metadata))
        case .streamMessage:
            guard frame.flags.isEmpty else { return "stream \(id): response message with flags \(frame.flags.rawValue)" }
            let count = frame.payload.count
            if let violation = decide(id, { entry in
                let decision = entry.responses.message()
                guard decision == .deliver, !entry.receiveWindow.received(count) else { return decision }
                return .violation("the server sent beyond its flow-control window")
            }) { return violation }
            entry.continuation.yield(.message([UInt8](frame.payload)))
        case .streamCredit:
            let credit: Int
            do { credit = try StreamFlow.decodeCredit(frame.payload) } catch { return "stream \(id): \(error)" }
            guard entry.sendWindow.grant(credit) else { return "stream \(id): credit beyond the largest window" }
        case .streamStatus:
            let status: Status
            let trailers: Metadata
            do { (status, trailers) = try StreamWire.decodeStatus(frame.payload, limits: link.limits) } catch { return "stream \(id): \(error)" }
            if let violation = decide(id, { $0.responses.end(reset: false) }) { return violation }
            state.withLock { _ = $0.streams.removeValue(forKey: id) }
            entry.continuation.yield(.status(status, trailers))
            entry.continuation.finish()
            entry.sendWindow.end(RPCError(code: .failedPrecondition, message: "the server already ended the RPC"))
        case .streamReset:
            let code: Status.Code
            let message: String
            do { (code, message) = try StreamWire.decodeReset(frame.payload, limits: link.limits) } catch { return "stream \(id): \(error)" }
            if let violation = decide(id, { $0.responses.end(reset: true) }) { return violation }
            state.withLock { _ = $0.streams.removeValue(forKey: id) }
            let error = RPCError(code: RPCError.Code(code) ?? .unknown, message: message)
            entry.continuation.finish(throwing: error)
            entry.sendWindow.end(error)
        default:
            return "server sent a \(frame.kind) frame on stream \(id)"
        }
        return nil
    }

    /// Runs a lifecycle decision on stream `id`'s entry under the lock; the violation it found, if any.
    private func decide(_ id: UInt64, _ transition: (inout Entry) -> ClientResponsesStateMachine.Decision) -> String? {
        let decision = state.withLock { state -> ClientResponsesStateMachine.Decision? in
            guard var entry = state.streams[id] else { return nil }
            defer { state.streams[id] = entry }
            return transition(&entry)
        }
        if case .violation(let detail) = decision { return "stream \(id): \(detail)" }
        return nil
    }

    private func ended(_ end: GRPCLinkEnd) {
        let (streams, waiters) = state.withLock { state in
            state.ended = state.ended ?? end
            defer {
                state.streams.removeAll()
                state.endWaiters.removeAll()
            }
            return (Array(state.streams.values), state.endWaiters)
        }
        let error = end.streamError
        for entry in streams {
            entry.continuation.finish(throwing: error)
            entry.sendWindow.end(error)
        }
        for waiter in waiters { waiter.resume() }
    }
}
