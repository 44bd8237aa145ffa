#if canImport(Glibc)
import Glibc
#endif
import Histogram
import RingCore
import RingLinux

/// The host side of a ping-pong measurement against a `ringbench _peer` echo process: sends one
/// `size`-byte request and waits for its echo, as often as the sampler asks.
protocol PingPongClient: AnyObject {
    /// Descriptors the peer inherits (child fd → parent fd) and its `_peer` arguments.
    var inherit: [Int32: Int32] { get }
    var peerArguments: [String] { get }
    /// Runs the sampler with this client's round trip as its body.
    func sample(_ sampler: PingPongSampler, size: Int, into histogram: inout Histogram<UInt64>) throws -> (count: UInt64, elapsed: UInt64)
    /// Tells the peer to exit.
    func finish()
    /// Whether the peer's futex calls mirror this side's (ring echo), so they can be counted as equal.
    var peerMirrorsFutexCalls: Bool { get }
}

/// Ring ping-pong: synchronous blocking helpers on both sides with one wait profile (the peer is
/// `ring-echo`, the same as `ringbench latency`).
final class RingPingPongClient: PingPongClient {
    let segment: SharedMemorySegment
    var producer: RingProducer?
    var reader: MessageReader?
    let profileName: String
    let profile: WaitProfile
    let payload: [UInt8]
    private var id: UInt64 = 0

    init(profileName: String, maxSize: Int) throws {
        self.profileName = profileName
        profile = LatencyCommand.profileNames[profileName] ?? .latency
        segment = try SharedMemorySegment.create(
            configuration: SegmentConfiguration(hostToWorkerCapacity: 1 << 20, workerToHostCapacity: 1 << 20,
                                                maxMessageSize: max(maxSize, 1 << 20)))
        producer = segment.takeProducer()!
        reader = MessageReader(consumer: segment.takeConsumer()!)
        payload = [UInt8](repeating: 7, count: max(maxSize, 8))
    }

    var inherit: [Int32: Int32] { [3: segment.unsafeFileDescriptor] }
    var peerArguments: [String] { ["--transport", "ring-echo", "--fd", "3", "--profile", profileName] }

    func sample(_ sampler: PingPongSampler, size: Int, into histogram: inout Histogram<UInt64>) throws -> (count: UInt64, elapsed: UInt64) {
        // The loop works on locals (a class property would pay a dynamic exclusivity check per access).
        var producer = self.producer.take()!
        var reader = self.reader.take()!
        let outcome = Result {
            try payload.withUnsafeBytes { all in
                try Self.loop(sampler, payload: UnsafeRawBufferPointer(rebasing: all[0..<size]), profile: profile, id: &id,
                              producer: &producer, reader: &reader, histogram: &histogram)
            }
        }
        self.producer = consume producer
        self.reader = consume reader
        return try outcome.get()
    }

    static func loop(
        _ sampler: PingPongSampler, payload: UnsafeRawBufferPointer, profile: WaitProfile, id: inout UInt64,
        producer: inout RingProducer, reader: inout MessageReader, histogram: inout Histogram<UInt64>
    ) throws -> (count: UInt64, elapsed: UInt64) {
        var readBackoff = Backoff(profile)
        var writeBackoff = Backoff(profile)
        return try sampler.run(into: &histogram) {
            id += 1
            let expected = id
            try producer.writeMessage(kind: .data, streamId: expected, payload: payload, backoff: &writeBackoff)
            var echoed = false
            while !echoed {
                _ = try reader.receive(backoff: &readBackoff) { message in echoed = message.streamId == expected }
            }
        }
    }

    func finish() { producer?.close() }
    var peerMirrorsFutexCalls: Bool { true }
}

/// Byte-stream ping-pong (unix, pipe, tcp): the request is one `write(2)` of a 4-byte length prefix
/// and the payload from a reused buffer; the peer (`stream-echo`) writes the same frame back.
final class StreamPingPongClient: PingPongClient {
    let channel: StreamChannel
    let request: UnsafeMutableRawBufferPointer
    let response: UnsafeMutableRawBufferPointer
    let maxSize: Int

    init(kind: StreamKind, maxSize: Int) throws {
        channel = try StreamChannel(kind: kind)
        self.maxSize = maxSize
        request = .allocate(byteCount: 4 + max(maxSize, 8), alignment: 64)
        response = .allocate(byteCount: 4 + max(maxSize, 8), alignment: 64)
        for i in 0..<request.count { request[i] = UInt8(truncatingIfNeeded: i) }
    }

    deinit {
        request.deallocate()
        response.deallocate()
    }

    var inherit: [Int32: Int32] { channel.inherit }
    var peerArguments: [String] { ["--transport", "stream-echo", "--fd", "3", "--write-fd", "4", "--max-size", String(maxSize)] }

    func sample(_ sampler: PingPongSampler, size: Int, into histogram: inout Histogram<UInt64>) throws -> (count: UInt64, elapsed: UInt64) {
        request.storeBytes(of: UInt32(size).littleEndian, as: UInt32.self)
        let frame = UnsafeRawBufferPointer(start: request.baseAddress, count: 4 + size)
        let answer = UnsafeMutableRawBufferPointer(start: response.baseAddress, count: 4 + size)
        let (out, input) = (channel.writeEnd, channel.readEnd)
        return try sampler.run(into: &histogram) {
            try SocketIO.writeAll(out, frame)
            try SocketIO.readExactly(input, answer)
        }
    }

    func finish() { channel.closeWrite() }
    var peerMirrorsFutexCalls: Bool { false }
}

/// The peer of `StreamPingPongClient`: reads a whole frame (one read when it has arrived whole; only
/// one is ever in flight) and writes it straight back, until end of file.
enum StreamEchoPeer {
    static func run(input: Int32, output: Int32, maxSize: Int) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 + max(maxSize, 8), alignment: 64)
        defer { buffer.deallocate() }
        while true {
            var filled = 0
            var needed = 4
            while filled < needed {
                let n = try Syscall.call("read") { read(input, buffer.baseAddress! + filled, buffer.count - filled) }
                if n == 0 { return }
                filled += n
                if filled >= 4 && needed == 4 {
                    let length = Int(UInt32(littleEndian: buffer.loadUnaligned(as: UInt32.self)))
                    guard length <= maxSize else { throw SystemError(call: "stream-echo (frame of \(length) bytes)", errno: 0) }
                    needed = 4 + length
                }
            }
            try SocketIO.writeAll(output, UnsafeRawBufferPointer(rebasing: buffer[0..<needed]))
        }
    }
}
