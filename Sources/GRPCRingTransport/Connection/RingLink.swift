// RingLink — the I/O of one gRPC connection: the segment both processes map, the reactor that
// suspends our waits, the async sender (many streams → one ring, back-pressure when full), the
// link's reader (RingLinux's LinkReader, the function host's and the worker's loop, driven here by
// a task of its own) that drains the inbound ring, and the watch on the peer process. It knows frames,
// not streams: the client and server connections above it own the stream tables.
import GRPCCore
import RingCore
import RingLinux
import Synchronization

/// One decoded-enough inbound frame, handed from the reader to the stream layer; the payload
/// is borrowed from the ring (valid only inside the callback).
struct InboundFrame {
    let kind: FrameKind
    let flags: FrameFlags
    let streamId: UInt64
    let payload: UnsafeRawBufferPointer
}

/// How the reader of a gRPC link ended: RingLinux's LinkEnd, with `stopped` told apart into a
/// peer that exited and a local close.
enum GRPCLinkEnd: Sendable, Equatable {
    /// The peer closed its ring after everything it sent was delivered.
    case closedByPeer
    /// The peer process exited (everything it published was delivered first).
    case peerExited
    /// The peer broke the protocol; the ring is poisoned.
    case violation(String)
    /// This side closed the link.
    case closedLocally

    /// The error streams still open on the link end with.
    var streamError: RPCError {
        switch self {
        case .closedByPeer: RPCError(code: .unavailable, message: "the peer closed the ring connection")
        case .peerExited: RPCError(code: .unavailable, message: "the peer process exited")
        case .violation(let detail): RPCError(code: .unavailable, message: "the peer broke the ring protocol: \(detail)")
        case .closedLocally: RPCError(code: .unavailable, message: "the ring connection was closed")
        }
    }
}

final class RingLink: Sendable {
    let segment: SharedMemorySegment
    let reactor: Reactor
    let sender: RingSender
    let peerPID: Int32
    let localPID: Int32
    let limits: StreamWireLimits
    private let consumer: RingMutex<RingConsumer?>
    private let state = RingMutex<(reader: LinkReader?, watch: WatchToken?, peerExited: Bool, closed: Bool)>((nil, nil, false, false))

    init(segment: SharedMemorySegment, reactor: Reactor, peerPID: Int32, localPID: Int32, limits: StreamWireLimits) {
        self.segment = segment
        self.reactor = reactor
        self.peerPID = peerPID
        self.localPID = localPID
        self.limits = limits
        let waker = ReactorWaker(reactor)
        sender = RingSender(segment.takeProducer(waker: waker)!, reactor: reactor, profile: .latency)
        consumer = RingMutex(segment.takeConsumer(waker: waker)!)
    }

    /// "ring:pid=…" for the peer and for this process.
    var remotePeer: String { "ring:pid=\(peerPID)" }
    var localPeer: String { "ring:pid=\(localPID)" }

    /// Starts the reader (RingLinux's LinkReader, driven by a task of its own rather than the
    /// reactor's duty cycle: each frame resumes a stream's consumer, and resuming from a pool thread
    /// costs no wake-up — measured, the reactor-driven reader made unary calls 1.8× faster with one
    /// in flight but streaming 0.66× with 16) and the watch on the peer. The reader checks that the
    /// ring starts with exactly one valid handshake; `onFrame` runs on the reader's task for every
    /// other inbound frame and returns a violation description or nil; `onEnd` runs once, last.
    func start(onFrame: @escaping @Sendable (InboundFrame) -> String?, onEnd: @escaping @Sendable (GRPCLinkEnd) -> Void) {
        guard let consumer = consumer.withLock({ $0.take() }) else { return }
        let reader = LinkReader(consumer, reactor: reactor, delegate: RingLinkReader(link: self, onFrame: onFrame, onEnd: onEnd))
        state.withLock { $0.reader = reader }
        Task { await reader.run(profile: .latency) }
        guard peerPID != localPID else { return }
        let peerGone: @Sendable () -> Void = { [self] in
            let reader = state.withLock { state -> LinkReader? in
                state.peerExited = true
                return state.reader
            }
            // The reader delivers what the peer published, then stops.
            reader?.stop()
        }
        do {
            let watch = try reactor.watchProcess(pid: peerPID) { result in
                if case .exited = result { peerGone() }
            }
            state.withLock { $0.watch = watch }
        } catch {
            peerGone()  // ESRCH: the peer is already gone
        }
    }

    /// How the reader's end reads for gRPC: a stop is a peer that exited, unless this side closed.
    /// Lets go of the ended reader.
    fileprivate func end(_ end: LinkEnd) -> GRPCLinkEnd {
        let (peerExited, closed) = state.withLock { state in
            state.reader = nil
            return (state.peerExited, state.closed)
        }
        switch end {
        case .closedByPeer: return .closedByPeer
        case .violation(let detail): return .violation(detail)
        case .stopped: return peerExited || !closed ? .peerExited : .closedLocally
        }
    }

    /// Writes the handshake frame now, without waiting: it is the first frame on a fresh ring, so
    /// it always fits.
    func sendHandshake() throws {
        let payload = RingHandshake.helloPayload
        let outcome = try payload.withUnsafeBytes { bytes throws(RingError) in
            try sender.writer.tryWrite(kind: .handshake, streamId: 0, payload: bytes)
        }
        guard outcome == .written else { throw RPCError(code: .internalError, message: "no room for the handshake on a fresh ring") }
    }

    /// Sends one frame; a ring that can no longer be written becomes `unavailable` — whatever the
    /// reason (the peer closed or died, the reactor a wait for space slept on shut down), as HTTP/2
    /// reports a connection that went away. Only `CancellationError` passes through unchanged
    /// (GRPCCore decides what a cancelled write means). Any other error would reach GRPCCore's
    /// request writer as a foreign error, which it reports as `unknown: "Write failed."`.
    func send(_ kind: FrameKind, flags: FrameFlags = [], streamId: UInt64, payload: [UInt8]) async throws {
        do {
            try await sender.send(kind: kind, flags: flags, streamId: streamId, payload: payload)
        } catch let error as RingError {
            switch error {
            case .messageTooLarge(let size, let limit):
                throw RPCError(code: .resourceExhausted, message: "message of \(size) bytes exceeds the ring limit of \(limit) bytes")
            default:
                throw RPCError(code: .unavailable, message: "ring connection lost: \(error)", cause: error)
            }
        } catch let error as RPCError {
            throw error
        } catch let error as CancellationError {
            throw error
        } catch {
            throw RPCError(code: .unavailable, message: "ring connection lost: \(error)", cause: error)
        }
    }

    /// Closes our outbound ring now, from any thread and without waiting: the peer's reader ends
    /// with `closedByPeer` after what was already sent, and every later `send` fails with
    /// `unavailable` (nothing can follow the close). `close(ownsReactor:)` finishes the job.
    func closeOutbound() {
        state.withLock { $0.closed = true }
        sender.close()
    }

    /// Closes our outbound ring (the peer's reader ends with `closedByPeer`), stops the reader,
    /// waits for it, and stops the reactor if this link owns it.
    func close(ownsReactor: Bool) async {
        let (reader, watch) = state.withLock { state in
            state.closed = true
            return (state.reader, state.watch)
        }
        sender.close()
        await reader?.stopAndWait()
        if let watch { reactor.cancel(watch) }
        if ownsReactor { reactor.shutdown() }
    }

    /// A reactor on the process-wide backend choice (`WaitBackend.selected()`, which honours
    /// RINGTRANSPORT_BACKEND, as FunctionHost's does) — except `iouring-eventfd`, whose doorbells
    /// a gRPC link has no way to hand to its peer: then the best backend whose wake-ups cross
    /// processes on the shared words themselves (iouring-futex, else futex-thread).
    static func makeReactor() throws -> Reactor {
        let choice = try WaitBackend.selected()
        if choice.kind != .ioUringEventfd { return try Reactor(choice: choice) }
        do { return try Reactor(backend: .ioUringFutex) } catch { return try Reactor(backend: .futexThread) }
    }
}

/// The gRPC side of a link's reader: screens the handshake, hands every other frame to the
/// connection, and on the end closes our ring (nobody reads what we send any more; the peer's
/// reader ends with `closedByPeer` once it drained what we sent) before telling the connection.
/// Called by the reader's one driver only.
private final class RingLinkReader: LinkReaderDelegate, @unchecked Sendable {
    // @unchecked: `handshake` is touched by the reader's one driver only (the LinkReader contract).
    // `link` holds the reader until it ends (RingLink.end lets go of it), so the two never leak.
    private let link: RingLink
    private let onFrame: @Sendable (InboundFrame) -> String?
    private let onEnd: @Sendable (GRPCLinkEnd) -> Void
    private var handshake = HandshakeGate()

    init(link: RingLink, onFrame: @escaping @Sendable (InboundFrame) -> String?, onEnd: @escaping @Sendable (GRPCLinkEnd) -> Void) {
        self.link = link
        self.onFrame = onFrame
        self.onEnd = onEnd
    }

    func linkReader(received message: MessageView) -> String? {
        let frame = InboundFrame(kind: message.kind, flags: message.flags, streamId: message.streamId, payload: message.payload)
        switch handshake.screen(frame) {
        case .pass: return onFrame(frame)
        case .accepted: return nil
        case .violation(let detail): return detail
        }
    }

    func linkReader(ended end: LinkEnd) {
        let end = link.end(end)
        link.sender.abort(with: end.streamError)
        link.sender.close()
        onEnd(end)
    }
}
