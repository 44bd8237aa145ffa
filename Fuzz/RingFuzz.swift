// RingFuzz — the libFuzzer entry point over RingCore's hostile-input surfaces (`make fuzz`).
// The first input byte picks the surface, the rest is the hostile memory:
//   0  frame header validation   32 bytes as a FrameHeader; isValid must agree with violation()
//   1  context decoding          ForwardingContext(decoding:); a decoded context must re-encode to
//                                the same bytes and decode to an equal value
//   2  segment attach            bytes over a formatted segment header, then SegmentHeader
//                                (validating:); an accepted header must yield in-bounds geometries
//   3  ring drain                bytes as the data area, head/tail words, then a MessageReader
//                                drains everything (splitting fragmented messages where the first
//                                fragment's byte 0 says): only typed errors, never a trap or a stray read
//   4  bounded reader            the one reader of untrusted bytes (every codec's): the input's
//                                own bytes pick the reads; only typed errors, offset never past the end
//   5  batch writer              a producer at an input-chosen position writes batches of
//                                input-sized frames (`writeBatch`) while the input moves the peer's
//                                head word between batches: only `.protocolViolation`, no byte
//                                written outside the data area, every accepted frame drained intact
// Built by `make fuzz` with swiftc -sanitize=fuzzer,address against the RingCore objects; crash
// inputs land in Fuzz/crashes/ and become regression cases in Tests/RingCoreTests.
@_spi(Codec) @_spi(Unsafe) @_spi(Testing) import RingCore

@_cdecl("LLVMFuzzerTestOneInput")
public func ringFuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let input = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    switch data[0] % 6 {
    case 0: RingFuzz.frameHeader(input)
    case 1: RingFuzz.context(input)
    case 2: RingFuzz.segmentHeader(input)
    case 3: RingFuzz.ringDrain(input)
    case 5: RingFuzz.batchWriter(input)
    default: RingFuzz.boundedReader(input)
    }
    return 0
}

enum RingFuzz {
    /// Reads driven by the input itself (each read's kind is the next byte): whatever the bytes,
    /// the reader throws typed errors only and never moves past the end.
    static func boundedReader(_ input: UnsafeRawBufferPointer) {
        var reader = BoundedReader(input)
        for _ in 0..<64 {
            guard let op: UInt8 = try? reader.take("op") else { return }
            switch op % 9 {
            case 0: _ = try? reader.take("u16") as UInt16
            case 1: _ = try? reader.take("u64") as UInt64
            case 2: _ = try? reader.takeBool("bool")
            case 3: _ = try? reader.takeString("string", limit: 300)
            case 4: _ = try? reader.takeLongString("long string", limit: 70_000)
            case 5: _ = try? reader.takeBytes("bytes", limit: 70_000)
            case 6: _ = try? reader.takeMap("map", limit: 16)
            case 7: _ = try? reader.takeRaw("raw", count: Int(op) - 128)
            default: _ = try? reader.finish()
            }
            precondition(reader.offset <= input.count && reader.remaining >= 0)
        }
    }

    static func word<T: FixedWidthInteger>(_ input: UnsafeRawBufferPointer, _ offset: Int, as: T.Type) -> T {
        var value: T = 0
        withUnsafeMutableBytes(of: &value) { out in
            for i in 0..<out.count where offset + i < input.count { out[i] = input[offset + i] }
        }
        return T(littleEndian: value)
    }

    static func frameHeader(_ input: UnsafeRawBufferPointer) {
        let prefix = FrameHeader.decodePrefix(word(input, 0, as: UInt64.self))
        let header = FrameHeader(
            frameLength: prefix.length, kind: prefix.kind, flags: FrameFlags(rawValue: prefix.flags), streamId: word(input, 8, as: UInt64.self),
            contextLength: word(input, 16, as: UInt32.self), payloadLength: word(input, 20, as: UInt32.self),
            messageLength: word(input, 24, as: UInt64.self))
        let limit = word(input, 32, as: UInt32.self)
        let valid = header.isValid(maxFrameLength: limit)
        precondition(valid == (header.violation(maxFrameLength: limit) == nil), "isValid and violation() disagree on \(header)")
    }

    static func context(_ input: UnsafeRawBufferPointer) {
        guard let decoded = try? ForwardingContext(decoding: input) else { return }
        guard let encoded = try? decoded.encoded() else { preconditionFailure("a decoded context does not re-encode: \(decoded)") }
        precondition((try? ForwardingContext(decoding: encoded)) == decoded, "round trip changed the context")
    }

    static let configuration = SegmentConfiguration(hostToWorkerCapacity: 4096, workerToHostCapacity: 4096, maxMessageSize: 1 << 16)

    static func segmentHeader(_ input: UnsafeRawBufferPointer) {
        let memory = HeapSegmentMemory(size: configuration.totalSize)
        let region = memory.region
        try! SegmentHeader.format(region, configuration: configuration, creatorPID: 1)
        // Overwrite the header's bytes from offset 8 (the magic stays, or nothing is ever checked).
        for i in 0..<min(input.count, SegmentLayout.headerSize - 8) { region.base.storeBytes(of: input[i], toByteOffset: 8 + i, as: UInt8.self) }
        guard let header = try? SegmentHeader(validating: region) else { return }
        for direction in [RingDirection.hostToWorker, .workerToHost] {
            let geometry = RingGeometry(region: region, header: header, direction: direction)
            let start = region.base
            let end = region.base + region.size
            precondition(geometry.control >= start && geometry.control + SegmentLayout.controlBlockSize <= end, "control block out of bounds")
            precondition(geometry.data >= start && geometry.data + Int(geometry.capacity) <= end, "data area out of bounds")
        }
    }

    /// A freshly formatted segment in a heap block exactly as large as its layout (ASan sees any
    /// access outside it) and the geometry of one of its rings. Keep `memory` alive while using it.
    static func formattedRing(_ direction: RingDirection) -> (memory: HeapSegmentMemory, geometry: RingGeometry) {
        let memory = HeapSegmentMemory(size: configuration.totalSize)
        let region = memory.region
        try! SegmentHeader.format(region, configuration: configuration, creatorPID: 1)
        let header = try! SegmentHeader(validating: region)
        return (memory, RingGeometry(region: region, header: header, direction: direction))
    }

    static func ringDrain(_ input: UnsafeRawBufferPointer) {
        let (memory, geometry) = formattedRing(.workerToHost)
        defer { withExtendedLifetime(memory) {} }
        // head (small), tail (anything), then the data area.
        let head = UInt64(word(input, 0, as: UInt16.self)) & ~7
        let tail = word(input, 2, as: UInt64.self) % 3 == 0 ? word(input, 2, as: UInt64.self) : head &+ UInt64(word(input, 10, as: UInt16.self))
        geometry.control.storeBytes(of: head.littleEndian, toByteOffset: SegmentLayout.Control.head, as: UInt64.self)
        geometry.control.storeBytes(of: tail.littleEndian, toByteOffset: SegmentLayout.Control.tail, as: UInt64.self)
        let body = input.count > 12 ? UnsafeRawBufferPointer(rebasing: input[12...]) : UnsafeRawBufferPointer(start: nil, count: 0)
        for i in 0..<min(body.count, Int(geometry.capacity)) {
            geometry.data.storeBytes(of: body[(i &+ Int(head)) % body.count], toByteOffset: (i + Int(head)) % Int(geometry.capacity), as: UInt8.self)
        }
        var reader = MessageReader(consumer: RingConsumer(geometry: geometry))
        for _ in 0..<64 {
            do {
                // Split reassembly too: the split point comes from the (hostile) first fragment, as
                // the invocation readers' does; 0 and values past the fragment must be ignored.
                let drained = try reader.drain(splitting: { _, first in first.isEmpty ? nil : Int(first[0]) - 8 }) { message in
                    _ = try? message.decodeContext()
                    _ = message.copyPayload()
                }
                if drained == 0 { break }
            } catch {
                break
            }
        }
    }

    /// The batch writer against a hostile head: the input picks the ring's start position, each
    /// batch's frame sizes, and (from byte 8 on, one word per batch) whether the peer's head word
    /// is moved and where to. The segment is a heap allocation exactly as large as the layout, so
    /// ASan reports any write outside it; a head the producer accepts keeps every frame whole.
    static func batchWriter(_ input: UnsafeRawBufferPointer) {
        let (memory, geometry) = formattedRing(.hostToWorker)
        defer { withExtendedLifetime(memory) {} }
        let start = UInt64(word(input, 0, as: UInt32.self)) & ~7
        geometry.unsafeRepositionForTesting(to: start)
        var producer = RingProducer(geometry: geometry)
        var consumer = RingConsumer(geometry: geometry)
        let payload = [UInt8](repeating: 0xA5, count: producer.maxBatchPayload)
        var offset = 8
        var sent: UInt64 = 0
        var received: UInt64 = 0
        var hostile = false
        while offset + 4 <= input.count {
            let op = word(input, offset, as: UInt32.self)
            offset += 4
            if op & 0xF == 0 {
                // The peer rewrites its head: anywhere (hostile) or to what it has consumed.
                let value = UInt64(op >> 4) &* 8 &+ (op & 0x10 == 0 ? 0 : 3)
                geometry.control.storeBytes(of: (start &+ value).littleEndian, toByteOffset: SegmentLayout.Control.head, as: UInt64.self)
                hostile = true
            }
            let size = Int(op >> 8) % (producer.maxBatchPayload + 1)
            let count = Int(op & 0xF0) >> 4
            do {
                sent &+= UInt64(try payload.withUnsafeBytes { bytes in
                    try producer.writeBatch { batch in
                        var left = count
                        while left >= 0, batch.append(kind: .data, streamId: sent, payload: UnsafeRawBufferPointer(rebasing: bytes[..<size])) {
                            left -= 1
                        }
                    }
                })
            } catch {
                guard case RingError.protocolViolation = error else { fatalError("writeBatch threw \(error)") }
                return
            }
            if op & 0x100 != 0 && !hostile {
                do {
                    received &+= UInt64(try consumer.drain { frame in
                        precondition(frame.kind == .data && frame.payload.allSatisfy { $0 == 0xA5 }, "a batch frame arrived damaged")
                    })
                } catch {
                    fatalError("an honest drain failed: \(error)")
                }
            }
        }
        guard !hostile else { return }
        do {
            received &+= UInt64(try consumer.drain { _ in })
        } catch {
            fatalError("an honest drain failed: \(error)")
        }
        precondition(received == sent, "\(sent) frames written, \(received) drained")
    }
}
