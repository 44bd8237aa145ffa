// HandshakeGate — each ring's first frame must be the peer's handshake, and there is exactly one.
// RingLink's reader screens every inbound frame with it before the stream layer sees any.

struct HandshakeGate {
    enum Verdict: Equatable {
        /// An ordinary frame after the handshake: the stream layer handles it.
        case pass
        /// The frame was the handshake and it is valid: nothing more to do.
        case accepted
        /// A protocol violation (no handshake first, a bad one, or a second one).
        case violation(String)
    }

    private var seen = false

    mutating func screen(_ frame: InboundFrame) -> Verdict {
        if frame.kind != .handshake && seen { return .pass }
        if let violation = RingHandshake.check(frame) { return .violation(violation) }
        if seen { return .violation("second handshake") }
        seen = true
        return .accepted
    }
}
