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
        var sawMetadata = false
    }
    private struct State {
        var nextID: UInt64 = 1
        var streams: [UInt64: Entry] = [:]
        var ended: LinkEnd?
        var endWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    init(link: RingLink) { self.link = link }

    /// Sends our handshake (the first frame on our ring), then starts reading.
    func start() throws {
        try link.sendHandshake()
        link.start(onFrame: { [self] frame in handle(frame) }, onEnd: { [self] end in ended(end) })
    }

    /// Registers a new stream; throws `unavailable` once the link has ended.
    func open() throws -> (UInt64, AsyncThrowingStream<Part, any Error>) {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Part.self)
        let result: Result<UInt64, RPCError> = state.withLock { state in
            if let ended = state.ended { return .failure(ended.streamError) }
            let id = state.nextID
            state.nextID += 1
            state.streams[id] = Entry(continuation: continuation)
            return .success(id)
        }
        return (try result.get(), stream)
    }

    /// Forgets a stream the caller is done with (or whose request side failed), ending its
    /// responses with `error`; returns true if it had not ended (no status or reset arrived), so
    /// the server must be told with a reset.
    func close(_ id: UInt64, error: RPCError) -> Bool {
        guard let entry = state.withLock({ $0.streams.removeValue(forKey: id) }) else { return false }
        entry.continuation.finish(throwing: error)
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
        guard var entry else { return nil }
        switch frame.kind {
        case .streamMetadata:
            guard !entry.sawMetadata else { return "stream \(id): second response metadata" }
            let metadata: Metadata
            do { metadata = try StreamWire.decodeMetadata(frame.payload, limits: link.limits) } catch { return "stream \(id): \(error)" }
            entry.sawMetadata = true
            state.withLock { $0.streams[id]?.sawMetadata = true }
            entry.continuation.yield(.metadata(metadata))
        case .streamMessage:
            guard frame.flags.isEmpty else { return "stream \(id): response message with flags \(frame.flags.rawValue)" }
            entry.continuation.yield(.message([UInt8](frame.payload)))
        case .streamStatus:
            let status: Status
            let trailers: Metadata
            do { (status, trailers) = try StreamWire.decodeStatus(frame.payload, limits: link.limits) } catch { return "stream \(id): \(error)" }
            state.withLock { _ = $0.streams.removeValue(forKey: id) }
            entry.continuation.yield(.status(status, trailers))
            entry.continuation.finish()
        case .streamReset:
            let code: Status.Code
            let message: String
            do { (code, message) = try StreamWire.decodeReset(frame.payload, limits: link.limits) } catch { return "stream \(id): \(error)" }
            state.withLock { _ = $0.streams.removeValue(forKey: id) }
            entry.continuation.finish(throwing: RPCError(code: RPCError.Code(code) ?? .unknown, message: message))
        default:
            return "server sent a \(frame.kind) frame on stream \(id)"
        }
        return nil
    }

    private func ended(_ end: LinkEnd) {
        let (streams, waiters) = state.withLock { state in
            state.ended = state.ended ?? end
            defer {
                state.streams.removeAll()
                state.endWaiters.removeAll()
            }
            return (Array(state.streams.values), state.endWaiters)
        }
        let error = end.streamError
        for entry in streams { entry.continuation.finish(throwing: error) }
        for waiter in waiters { waiter.resume() }
    }
}
