#if canImport(Glibc)
import Glibc
#endif
import RingLinux

/// The byte-stream baselines of `ringbench throughput` / `compare` (unix, pipe, tcp): one `write(2)`
/// per message carrying a 4-byte length prefix and the payload from one reused buffer; the reader
/// reads in 256 KiB chunks and parses frames (the sensible framing a host would use).
final class StreamThroughputSender: ThroughputSender {
    let channel: StreamChannel
    let message: UnsafeMutableRawBufferPointer
    static let endMarker = UInt32.max

    init(kind: StreamKind, maxSize: Int) throws {
        channel = try StreamChannel(kind: kind)
        message = .allocate(byteCount: 4 + max(maxSize, 8), alignment: 64)
        for i in 0..<message.count { message[i] = UInt8(truncatingIfNeeded: i) }
    }

    deinit { message.deallocate() }

    var inherit: [Int32: Int32] { channel.inherit }

    func run(size: Int, nanoseconds: UInt64) throws -> RepetitionOutcome {
        message.storeBytes(of: UInt32(size).littleEndian, as: UInt32.self)
        let frame = UnsafeRawBufferPointer(start: message.baseAddress, count: 4 + size)
        let out = channel.writeEnd
        var sent: UInt64 = 0
        let deadline = MonotonicClock.now() + nanoseconds
        repeat {
            for _ in 0..<64 {
                try SocketIO.writeAll(out, frame)
                sent += 1
            }
        } while MonotonicClock.now() < deadline
        var end = [UInt8](repeating: 0, count: 12)
        end.withUnsafeMutableBytes {
            $0.storeBytes(of: Self.endMarker, as: UInt32.self)
            $0.storeBytes(of: sent.littleEndian, toByteOffset: 4, as: UInt64.self)
        }
        try end.withUnsafeBytes { try SocketIO.writeAll(out, $0) }
        var answer: UInt64 = 0
        try withUnsafeMutableBytes(of: &answer) { try SocketIO.readExactly(channel.readEnd, $0) }
        let received = UInt64(littleEndian: answer)
        guard received == sent else { throw CountMismatch(sent: sent, received: received) }
        return RepetitionOutcome(messages: sent, peerWakes: 0)
    }

    func finish() throws { channel.closeWrite() }
}

/// The stream side of `ringbench _peer` (transports unix, pipe, tcp): reads from `input`, answers
/// each end marker with its count on `output`.
enum StreamThroughputPeer {
    static func run(input: Int32, output: Int32, consume: ConsumeMode, maxSize: Int) throws {
        let capacity = max(256 << 10, 2 * (maxSize + 16))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 64)
        defer { buffer.deallocate() }
        var sink = PayloadSink(mode: consume, maxSize: maxSize)
        defer { sink.free() }
        var filled = 0
        var parsed = 0
        var count: UInt64 = 0
        while true {
            if parsed > 0 {  // move the partial frame to the front
                if filled > parsed { (buffer.baseAddress!).copyMemory(from: buffer.baseAddress! + parsed, byteCount: filled - parsed) }
                filled -= parsed
                parsed = 0
            }
            let n = try Syscall.call("read") { read(input, buffer.baseAddress! + filled, capacity - filled) }
            if n == 0 { break }
            filled += n
            while filled - parsed >= 4 {
                let length = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: parsed, as: UInt32.self))
                if length == StreamThroughputSender.endMarker {
                    guard filled - parsed >= 12 else { break }
                    parsed += 12
                    var answer = count.littleEndian
                    count = 0
                    try withUnsafeBytes(of: &answer) { try SocketIO.writeAll(output, $0) }
                    continue
                }
                guard filled - parsed >= 4 + Int(length) else { break }
                sink.consume(UnsafeRawBufferPointer(rebasing: buffer[(parsed + 4)..<(parsed + 4 + Int(length))]))
                parsed += 4 + Int(length)
                count += 1
            }
        }
        if sink.accumulator == 0x5EED { print("") }
    }
}

/// Blocking stream I/O helpers for the baselines.
enum SocketIO {
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            offset += try Syscall.call("write") { write(fd, bytes.baseAddress! + offset, bytes.count - offset) }
        }
    }

    static func readExactly(_ fd: Int32, _ bytes: UnsafeMutableRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = try Syscall.call("read") { read(fd, bytes.baseAddress! + offset, bytes.count - offset) }
            if n == 0 { throw SystemError(call: "read (peer closed)", errno: 0) }
            offset += n
        }
    }
}
