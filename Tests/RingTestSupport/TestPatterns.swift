@_spi(Unsafe) @_spi(Testing) public import RingCore

/// Deterministic xorshift64* generator: tests are reproducible from their seed.
public struct TestRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    public mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

/// FNV-1a, 64-bit.
public func fnv1a(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0xCBF2_9CE4_8422_2325) -> UInt64 {
    var hash = seed
    for byte in bytes {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01B3
    }
    return hash
}

/// Messages whose payload is bound to their id and context, so any mix-up is detectable:
/// payload = [u64 id][u64 digest(context bytes, id)][filler: byte i = (id &+ i) & 0xff].
public enum BoundMessage {
    public static let headerSize = 16

    /// The context every message `id` carries.
    public static func context(for id: UInt64) -> ForwardingContext {
        ForwardingContext(
            invocationId: ContextID(high: id, low: ~id), forwardingId: ContextID(high: id &* 31, low: 7),
            traceparent: "00-\(String(id, radix: 16))-01", deadlineNanoseconds: id % 3 == 0 ? id : nil,
            retryCount: UInt32(id % 5), maxRetries: 5,
            attributes: id % 2 == 0 ? [.init(key: "id", value: String(id))] : [])
    }

    /// The payload of message `id` with `size` bytes (≥ headerSize) for `contextBytes`.
    public static func payload(id: UInt64, size: Int, contextBytes: [UInt8]) -> [UInt8] {
        precondition(size >= headerSize)
        var bytes = [UInt8](repeating: 0, count: size)
        let digest = contextBytes.withUnsafeBytes { fnv1a($0, seed: id) }
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: id.littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: digest.littleEndian, toByteOffset: 8, as: UInt64.self)
        }
        for i in headerSize..<size { bytes[i] = UInt8(truncatingIfNeeded: id &+ UInt64(i)) }
        return bytes
    }

    /// Checks a received message; returns a description of the first mismatch, or nil.
    public static func verify(id expected: UInt64, streamId: UInt64, context: UnsafeRawBufferPointer,
                              payload: UnsafeRawBufferPointer, size: Int) -> String? {
        if streamId != expected { return "stream id \(streamId), expected \(expected)" }
        guard payload.count == size else { return "message \(expected): payload \(payload.count) bytes, expected \(size)" }
        let id = UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        if id != expected { return "payload id \(id), expected \(expected)" }
        let digest = UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        if digest != fnv1a(context, seed: expected) { return "message \(expected): context digest mismatch" }
        guard let decoded = try? ForwardingContext(decoding: context) else { return "message \(expected): context does not decode" }
        if decoded != BoundMessage.context(for: expected) { return "message \(expected): wrong context \(decoded)" }
        for i in headerSize..<size where payload[i] != UInt8(truncatingIfNeeded: expected &+ UInt64(i)) {
            return "message \(expected): payload byte \(i) corrupt"
        }
        return nil
    }
}

/// A segment laid out in heap memory with both rings, for in-process tests.
public final class TestSegment: @unchecked Sendable {
    package let memory: HeapSegmentMemory
    public let header: SegmentHeader

    public init(capacity: Int = 1 << 16, maxFrameLength: Int? = nil, maxMessageSize: Int = 1 << 20) throws {
        let configuration = SegmentConfiguration(
            hostToWorkerCapacity: capacity, workerToHostCapacity: capacity, maxMessageSize: maxMessageSize,
            maxFrameLength: maxFrameLength)
        memory = HeapSegmentMemory(size: configuration.totalSize)
        try SegmentHeader.format(memory.region, configuration: configuration, creatorPID: 1)
        header = try SegmentHeader(validating: memory.region)
    }

    public func geometry(_ direction: RingDirection = .hostToWorker) -> RingGeometry {
        RingGeometry(region: memory.region, header: header, direction: direction)
    }

    /// Runs `body` once per 8-byte start position over two laps of the ring (the second lap far
    /// past 2^40, so positions wrap as 64-bit counters do), each time on a freshly zeroed ring with a
    /// new producer and consumer placed there. Returns the number of positions run.
    @discardableResult
    public func forEachStartPosition(
        _ direction: RingDirection = .hostToWorker,
        _ body: (_ start: Int, _ producer: inout RingProducer, _ consumer: inout RingConsumer) throws -> Void
    ) rethrows -> Int {
        let capacity = Int(geometry(direction).capacity)
        var positions = 0
        for start in stride(from: 0, to: 2 * capacity, by: 8) {
            reset()
            let geometry = geometry(direction)
            geometry.unsafeRepositionForTesting(to: UInt64(start) + (start >= capacity ? 1 << 40 : 0))
            var producer = RingProducer(geometry: geometry)
            var consumer = RingConsumer(geometry: geometry)
            try body(start, &producer, &consumer)
            positions += 1
        }
        return positions
    }

    /// Zeroes both control blocks and data areas (the header stays).
    public func reset() {
        let region = memory.region
        (region.base + SegmentLayout.headerSize).initializeMemory(
            as: UInt8.self, repeating: 0, count: region.size - SegmentLayout.headerSize)
    }
}
