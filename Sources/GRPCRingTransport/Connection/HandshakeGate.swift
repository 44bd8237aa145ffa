// HandshakeGate — each ring's first frame must be the peer's handshake, and there is exactly one.
// Shared by the client and server connections' inbound paths.
import Synchronization

final class HandshakeGate: Sendable {
    enum Verdict: Equatable {
        /// An ordinary frame after the handshake: the caller handles it.
        case pass
        /// The frame was the handshake and it is valid: nothing more to do.
        case accepted
        /// A protocol violation (no handshake first, a bad one, or a second one).
        case violation(String)
    }

    private let seen = Atomic<Bool>(false)

    func screen(_ frame: InboundFrame) -> Verdict {
        // The reader is one task: `seen` changes only here, in frame order.
        if frame.kind != .handshake && seen.load(ordering: .acquiring) { return .pass }
        if let violation = RingHandshake.check(frame) { return .violation(violation) }
        let second = seen.exchange(true, ordering: .acquiringAndReleasing)
        return second ? .violation("second handshake") : .accepted
    }
}
