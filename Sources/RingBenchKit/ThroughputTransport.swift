/// A transport measured by `ringbench throughput`: the parent streams messages to a child process
/// (`ringbench _peer`) for a fixed time, then sends an end marker; the child answers with the number
/// of messages it received, which must equal the number sent.
protocol ThroughputSender: AnyObject {
    /// Descriptors the child inherits (child fd → parent fd).
    var inherit: [Int32: Int32] { get }
    /// Streams `size`-byte messages for `nanoseconds`, then waits for the peer's count.
    /// Returns messages sent (verified equal to messages received) and the peer's wake syscalls.
    func run(size: Int, nanoseconds: UInt64) throws -> RepetitionOutcome
    /// Tells the peer to exit.
    func finish() throws
}

package enum ThroughputTransportKind: String, CaseIterable, Sendable {
    case ring
    /// The simplest SPSC ring over the same shared memory (`FloorThroughput.swift`): the limit the
    /// ring is read against ("% floor").
    case floor
    case unix
    case pipe
    case tcp

    /// The byte-stream baseline this kind names (nil for the ring).
    var stream: StreamKind? { StreamKind(rawValue: rawValue) }
}

/// The reused buffer a sender streams from: `size` bytes (at least 8), 64-byte aligned, byte i = i
/// mod 256. The sender deallocates it.
func makeSenderPayload(size: Int) -> UnsafeMutableRawBufferPointer {
    let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 8), alignment: 64)
    for i in 0..<payload.count { payload[i] = UInt8(truncatingIfNeeded: i) }
    return payload
}

/// A repetition ended with the peer disagreeing about the count — a lost or invented message.
struct CountMismatch: Error, CustomStringConvertible {
    let sent: UInt64
    let received: UInt64
    var description: String { "peer received \(received) messages, \(sent) were sent" }
}

/// What one repetition measured.
struct RepetitionOutcome {
    var messages: UInt64
    /// FUTEX_WAKE syscalls the peer made during the repetition (0 where not applicable).
    var peerWakes: UInt64
}
