// The first-frame rule every ring link enforces before the stream layer sees a frame: exactly one
// valid handshake, first.
@testable import GRPCRingTransport
import RingCore
import XCTest

final class HandshakeGateTests: XCTestCase {
    private func screen(_ gate: inout HandshakeGate, _ kind: FrameKind, payload: [UInt8], streamId: UInt64 = 0) -> HandshakeGate.Verdict {
        payload.withUnsafeBytes { gate.screen(InboundFrame(kind: kind, flags: [], streamId: streamId, payload: $0)) }
    }

    func testExactlyOneValidHandshakeFirst() {
        var gate = HandshakeGate()
        XCTAssertEqual(screen(&gate, .handshake, payload: RingHandshake.helloPayload), .accepted)
        XCTAssertEqual(screen(&gate, .streamMessage, payload: [1, 2], streamId: 1), .pass)
        XCTAssertEqual(screen(&gate, .handshake, payload: RingHandshake.helloPayload), .violation("second handshake"))
    }

    func testAnythingElseFirstIsAViolation() {
        var gate = HandshakeGate()
        XCTAssertEqual(screen(&gate, .streamMessage, payload: [], streamId: 1), .violation("expected a handshake frame, got \(FrameKind.streamMessage)"))
        var short = HandshakeGate()
        XCTAssertEqual(screen(&short, .handshake, payload: [1]), .violation("handshake of 1 bytes"))
        var newer = HandshakeGate()
        XCTAssertEqual(screen(&newer, .handshake, payload: [9, 0]), .violation("peer speaks stream protocol 9, this side 2"))
        // A peer from before per-stream flow control would never grant credit: refused, not misread.
        var older = HandshakeGate()
        XCTAssertEqual(screen(&older, .handshake, payload: [1, 0]), .violation("peer speaks stream protocol 1, this side 2"))
    }
}
