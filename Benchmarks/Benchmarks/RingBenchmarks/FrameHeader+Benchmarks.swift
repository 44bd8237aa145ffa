// 1. Frame header: store the 32-byte header, read it back the way RingConsumer does (one load of
//    the prefix word, then the rest) and validate it.
import Benchmark
@_spi(Unsafe) import RingCore

func registerFrameHeaderBenchmarks() {
    Benchmark("FrameHeader.encodeDecodeValidate") { benchmark in
        let slot = UnsafeMutableRawPointer.allocate(byteCount: FrameHeader.size, alignment: 8)
        defer { slot.deallocate() }
        // Opaque inputs, so the optimizer cannot fold the validation away.
        let payloadLength = identity(UInt32(64))
        let maxFrameLength = identity(UInt32(256 << 10))
        let kind = identity(FrameKind.data)
        var checksum: UInt64 = 0

        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            FrameHeader(
                frameLength: UInt32(FrameHeader.size) + payloadLength, kind: kind, flags: .unfragmented,
                streamId: UInt64(truncatingIfNeeded: i), contextLength: 0, payloadLength: payloadLength,
                messageLength: UInt64(payloadLength)
            ).unsafeStore(to: slot)
            blackHole(slot)

            let prefix = FrameHeader.decodePrefix(UInt64(littleEndian: slot.load(as: UInt64.self)))
            let word2 = UInt64(littleEndian: slot.load(fromByteOffset: 16, as: UInt64.self))
            let header = FrameHeader(
                frameLength: prefix.length, kind: prefix.kind, flags: FrameFlags(rawValue: prefix.flags),
                streamId: UInt64(littleEndian: slot.load(fromByteOffset: 8, as: UInt64.self)),
                contextLength: UInt32(truncatingIfNeeded: word2),
                payloadLength: UInt32(truncatingIfNeeded: word2 >> 32),
                messageLength: UInt64(littleEndian: slot.load(fromByteOffset: 24, as: UInt64.self)))
            if let problem = header.violation(maxFrameLength: maxFrameLength) { benchmarkFailure("frame header", problem) }
            checksum &+= header.streamId &+ UInt64(header.payloadLength)
        }
        benchmark.stopMeasurement()
        blackHole(checksum)
    }
}
