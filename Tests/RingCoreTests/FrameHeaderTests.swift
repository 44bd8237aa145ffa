import RingCore
import RingTestSupport
import Testing

@Suite struct FrameHeaderTests {
    @Test func storeThenDecodeRoundTrips() {
        let header = FrameHeader(
            frameLength: 32 + 5 + 7, kind: .invocationRequest, flags: [.firstFragment, .endOfStream],
            streamId: 0x0102_0304_0506_0708, contextLength: 5, payloadLength: 7, messageLength: 900)
        var bytes = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeMutableBytes { header.store(to: $0.baseAddress!) }
        // Little-endian, byte for byte (Docs/WireFormat.md).
        #expect(bytes == [44, 0, 0, 0, 0x10, 0, 5, 0, 8, 7, 6, 5, 4, 3, 2, 1, 5, 0, 0, 0, 7, 0, 0, 0,
                          0x84, 3, 0, 0, 0, 0, 0, 0])
        let prefix = bytes.withUnsafeBytes { FrameHeader.decodePrefix(UInt64(littleEndian: $0.load(as: UInt64.self))) }
        #expect(prefix.length == 44)
        #expect(prefix.kind == .invocationRequest)
        #expect(prefix.flags == 5)
    }

    @Test func specificViolationsAreNamed() {
        func header(_ edit: (inout FrameHeader) -> Void) -> FrameHeader {
            var h = FrameHeader(frameLength: 40, kind: .data, flags: .unfragmented, streamId: 1, contextLength: 0,
                                payloadLength: 8, messageLength: 8)
            edit(&h)
            return h
        }
        #expect(header { _ in }.violation(maxFrameLength: 256) == nil)
        #expect(header { $0.kind = FrameKind(rawValue: 0x99) }.violation(maxFrameLength: 256) != nil)
        #expect(header { $0.kind = .padding }.violation(maxFrameLength: 256) != nil)
        #expect(header { $0.flags = FrameFlags(rawValue: 0x100) }.violation(maxFrameLength: 256) != nil)
        #expect(header { $0.frameLength = 300; $0.payloadLength = 268; $0.messageLength = 268 }.violation(maxFrameLength: 256) != nil)
        #expect(header { $0.payloadLength = 9 }.violation(maxFrameLength: 256) != nil)
        #expect(header { $0.messageLength = 9 }.violation(maxFrameLength: 256) != nil)
        #expect(header { $0.flags = .lastFragment; $0.contextLength = 8; $0.payloadLength = 0 }.violation(maxFrameLength: 256) != nil)
        #expect(header { $0.kind = .invocationRequest }.violation(maxFrameLength: 256)?.contains("forwarding context") == true)
    }

    /// The fast check and the descriptive check never disagree.
    @Test func fastAndDescriptiveChecksAgree() {
        var random = TestRandom(seed: 3)
        let edges: [UInt32] = [0, 1, 8, 31, 32, 33, 40, 255, 256, 257, .max]
        var valid = 0
        for _ in 0..<200_000 {
            func pick() -> UInt32 { random.next() % 2 == 0 ? edges[Int(random.next() % UInt64(edges.count))] : UInt32(truncatingIfNeeded: random.next() % 300) }
            let context = pick() % 64
            let payload = pick()
            let sum = 32 &+ context &+ payload
            let header = FrameHeader(
                frameLength: random.next() % 4 == 0 ? pick() : sum,
                kind: FrameKind.allKnown[Int(random.next() % UInt64(FrameKind.allKnown.count))],
                flags: FrameFlags(rawValue: UInt16(truncatingIfNeeded: random.next() % 3 == 0 ? random.next() : random.next() % 16)),
                streamId: random.next(), contextLength: context, payloadLength: payload,
                messageLength: random.next() % 2 == 0 ? UInt64(payload) : UInt64(pick()))
            let fast = header.isValid(maxFrameLength: 256)
            #expect(fast == (header.violation(maxFrameLength: 256) == nil), "\(header)")
            if fast { valid += 1 }
        }
        #expect(valid > 1000)
    }

    /// The reader's one-mask kind test agrees with `isKnown` for every raw value.
    @Test func knownNonPaddingMaskMatchesTheKindTable() {
        var mismatches: [UInt16] = []
        for raw in UInt16.min...UInt16.max {
            let kind = FrameKind(rawValue: raw)
            if kind.isKnownNonPadding != (kind.isKnown && kind != .padding) { mismatches.append(raw) }
        }
        #expect(mismatches == [])
        #expect(FrameKind.allKnown.filter(\.isKnownNonPadding).count == FrameKind.allKnown.count - 1)
    }

    /// The reader's whole-message check accepts a frame only if the full check does, and accepts
    /// every valid whole-message frame (both fragment bits set) — any kind, known or not.
    @Test func wholeMessageCheckAgreesWithTheFullCheck() {
        var random = TestRandom(seed: 5)
        let edges: [UInt32] = [0, 1, 8, 31, 32, 33, 40, 255, 256, 257, .max]
        var accepted = 0
        var wholeValid = 0
        for _ in 0..<200_000 {
            func pick() -> UInt32 { random.next() % 2 == 0 ? edges[Int(random.next() % UInt64(edges.count))] : UInt32(truncatingIfNeeded: random.next() % 300) }
            let context = random.next() % 3 == 0 ? 0 : pick() % 64
            let payload = pick()
            let kind = random.next() % 8 == 0
                ? FrameKind(rawValue: UInt16(truncatingIfNeeded: random.next() % 0x50))
                : FrameKind.allKnown[Int(random.next() % UInt64(FrameKind.allKnown.count))]
            let flags = random.next() % 4 == 0
                ? FrameFlags(rawValue: UInt16(truncatingIfNeeded: random.next()))
                : FrameFlags.unfragmented.union(FrameFlags(rawValue: UInt16(truncatingIfNeeded: random.next() % 16)))
            // The reader checks the length's bounds before either check runs.
            let length = random.next() % 4 == 0 ? pick() : 32 &+ context &+ payload
            guard length >= 32, length <= 256 else { continue }
            let header = FrameHeader(
                frameLength: length, kind: kind, flags: flags, streamId: random.next(), contextLength: context,
                payloadLength: payload, messageLength: random.next() % 4 == 0 ? UInt64(pick()) : UInt64(payload))
            let fast = FrameHeader.isValidWholeMessage(
                kind: kind, flags: flags.rawValue, frameLength: UInt64(length), contextLength: context,
                payloadLength: payload, messageLength: header.messageLength)
            let full = header.isValid(maxFrameLength: 256)
            let whole = flags.isSuperset(of: .unfragmented)
            #expect(fast == (full && whole), "\(header)")
            if fast { accepted += 1 }
            if full && whole { wholeValid += 1 }
        }
        #expect(accepted == wholeValid)
        #expect(accepted > 1000)
    }
}
