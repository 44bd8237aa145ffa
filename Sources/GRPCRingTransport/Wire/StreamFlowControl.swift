// StreamFlowControl — per-stream flow control of gRPC over the rings (stream protocol 2), without
// I/O. Each direction of each stream has a window of message bytes, `initialWindowBytes` when the
// stream opens. The sender may send a message while its window is positive and subtracts the
// message's size (so one message larger than the window still passes, alone); the receiver grants
// bytes back with a `streamCredit` frame once the application has consumed half a window. What one
// stream can make the other side buffer is therefore bounded by a window plus one message — a
// reader that never reads holds back its writer, and no one else. Docs/GRPC.md, "Flow control".
import GRPCCore
import Synchronization
import RingCore

enum StreamFlow {
    /// The window of every stream direction when the stream opens (a protocol constant: both sides
    /// assume it, nothing negotiates it).
    static let initialWindowBytes = 1 << 20
    /// The largest credit one frame may grant, and the largest window a sender may hold; a peer that
    /// exceeds it breaks the protocol.
    static let maxWindowBytes = 1 << 31

    static func encodeCredit(_ bytes: Int) -> [UInt8] {
        let value = UInt32(truncatingIfNeeded: bytes)
        return [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 24)]
    }

    /// A credit frame's payload: exactly a u32 (little-endian), at least 1.
    static func decodeCredit(_ bytes: UnsafeRawBufferPointer) throws(StreamWireError) -> Int {
        guard bytes.count == 4 else { throw StreamWireError("credit of \(bytes.count) bytes") }
        let value = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
        guard value > 0 else { throw StreamWireError("credit of 0 bytes") }
        return value
    }
}

/// The sending side of one stream direction: how many message bytes may still be sent, and the
/// writers waiting for credit.
final class SendWindow: Sendable {
    private struct State {
        var available = StreamFlow.initialWindowBytes
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextWaiter: UInt64 = 0
        var ended: RPCError?
    }
    private let state = RingMutex(State())

    /// Writers of this process waiting for credit now (what a test watches to see writers held back).
    static let waiting = Atomic<Int>(0)

    /// Takes room for a message of `bytes`, waiting while the window is not positive. A write that
    /// would wait on a stream that has ended throws the end (nothing would ever grant it credit);
    /// one that need not wait goes on as before flow control existed (the peer drops it). Throws
    /// `CancellationError` if the waiting task is cancelled.
    func acquire(_ bytes: Int) async throws {
        while true {
            let taken: Bool = try state.withLock { state throws(RPCError) -> Bool in
                if state.available > 0 {
                    state.available -= bytes
                    return true
                }
                if let ended = state.ended { throw ended }
                return false
            }
            if taken { return }
            try await waitForCredit()
        }
    }

    private func waitForCredit() async throws {
        let id = state.withLock { state -> UInt64 in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        Self.waiting.add(1, ordering: .relaxed)
        defer { Self.waiting.subtract(1, ordering: .relaxed) }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: (any Error)?? = state.withLock { state in
                    if state.available > 0 { return .some(nil) }
                    if let ended = state.ended { return .some(ended) }
                    if Task.isCancelled { return .some(CancellationError()) }
                    state.waiters[id] = continuation
                    return .none
                }
                switch resumeNow {
                case .none: break
                case .some(.none): continuation.resume()
                case .some(.some(let error)): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    /// The receiver granted `bytes`; false if the window would exceed its bound (a violation).
    func grant(_ bytes: Int) -> Bool {
        let (valid, waiters) = state.withLock { state -> (Bool, [CheckedContinuation<Void, any Error>]) in
            guard state.available + bytes <= StreamFlow.maxWindowBytes else { return (false, []) }
            state.available += bytes
            guard state.available > 0 else { return (true, []) }
            defer { state.waiters.removeAll() }
            return (true, Array(state.waiters.values))
        }
        // Each resumed writer takes its room in turn; those that find none wait again.
        for waiter in waiters { waiter.resume() }
        return valid
    }

    /// The stream ended: writers waiting now and later get `error`.
    func end(_ error: RPCError) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            if state.ended == nil { state.ended = error }
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(throwing: error) }
    }

    var available: Int { state.withLock(\.available) }
}

/// The receiving side of one stream direction: checks the peer keeps to its window, and says when
/// the application has consumed enough to grant credit back.
struct ReceiveWindow {
    /// Bytes received and not yet granted back (what the peer believes it has in flight).
    private(set) var outstanding = 0
    /// Bytes the application consumed and not yet granted back.
    private(set) var consumed = 0

    /// A message of `bytes` arrived; false if the sender had no window left to send it.
    mutating func received(_ bytes: Int) -> Bool {
        guard outstanding < StreamFlow.initialWindowBytes else { return false }
        outstanding += bytes
        return true
    }

    /// The application consumed a message of `bytes`; returns the credit to grant now, if any.
    mutating func consume(_ bytes: Int) -> Int? {
        consumed += bytes
        guard consumed >= StreamFlow.initialWindowBytes / 2 else { return nil }
        defer {
            outstanding -= consumed
            consumed = 0
        }
        return consumed
    }
}
