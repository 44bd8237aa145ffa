import RingCore
import RingTestSupport
import Testing

@Suite struct ForwardingContextTests {
    static let full = ForwardingContext(
        invocationId: ContextID(uuidString: "0f8fad5b-d9cb-469f-a165-70867728950e")!,
        forwardingId: ContextID(high: 0xDEAD_BEEF, low: 42),
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        tracestate: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", deadlineNanoseconds: 123_456_789_000,
        retryCount: 2, maxRetries: 5,
        attributes: [.init(key: "function", value: "HttpTrigger"), .init(key: "ünïcødé", value: "✓"),
                     .init(key: "function", value: "repeat")])

    @Test func roundTripsEveryField() throws {
        let bytes = try Self.full.encoded()
        #expect(bytes.count == Self.full.encodedSize)
        #expect(try ForwardingContext(decoding: bytes) == Self.full)
    }

    /// Whatever the decoder accepts re-encodes to the same bytes: the worker carries the request's
    /// context back by encoding the decoded one into its reply (no copy of the bytes kept), and the
    /// C ABI hands foreign workers the re-encoded bytes. Random contexts, every optional part.
    @Test func decodingThenEncodingGivesBackTheSameBytes() throws {
        var random = TestRandom(seed: 7)
        func text(_ maxBytes: Int) -> String {
            let scalars: [Character] = ["a", "Z", "0", "-", "ü", "✓", "😀", " "]
            var out = ""
            for _ in 0..<Int(random.next() % UInt64(maxBytes / 4 + 1)) { out.append(scalars[Int(random.next() % 8)]) }
            return out
        }
        for _ in 0..<500 {
            let context = ForwardingContext(
                invocationId: ContextID(high: random.next(), low: random.next()),
                forwardingId: ContextID(high: random.next(), low: random.next()),
                traceparent: text(256), tracestate: text(512),
                deadlineNanoseconds: random.next() % 2 == 0 ? nil : random.next(),
                retryCount: UInt32(truncatingIfNeeded: random.next()), maxRetries: UInt32(truncatingIfNeeded: random.next()),
                attributes: (0..<Int(random.next() % 5)).map { _ in .init(key: text(64), value: text(128)) })
            let bytes = try context.encoded()
            let decoded = try ForwardingContext(decoding: bytes)
            #expect(try decoded.validatedEncodedSize() == bytes.count)
            #expect(try decoded.encoded() == bytes)
        }
    }

    @Test func roundTripsMinimalContext() throws {
        let minimal = ForwardingContext(invocationId: ContextID(high: 1, low: 2))
        let bytes = try minimal.encoded()
        #expect(bytes.count == 44 + 4)
        #expect(try ForwardingContext(decoding: bytes) == minimal)
    }

    @Test func encodingIsStable() throws {
        // Golden bytes: the wire format is a contract (Docs/WireFormat.md).
        let context = ForwardingContext(
            invocationId: ContextID(high: 0x0102_0304_0506_0708, low: 0x1112_1314_1516_1718),
            traceparent: "ab", deadlineNanoseconds: 5, retryCount: 1, maxRetries: 3,
            attributes: [.init(key: "k", value: "v")])
        let expected: [UInt8] =
            [1, 1, 1, 0, 1, 0, 0, 0, 3, 0, 0, 0]
            + [8, 7, 6, 5, 4, 3, 2, 1, 0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11]
            + [UInt8](repeating: 0, count: 16)
            + [5, 0, 0, 0, 0, 0, 0, 0]
            + [2, 0, 0x61, 0x62, 0, 0]
            + [1, 0, 0x6B, 1, 0, 0x76]
        #expect(try context.encoded() == expected)
    }

    @Test func uuidTextRoundTrips() {
        let text = "0f8fad5b-d9cb-469f-a165-70867728950e"
        #expect(ContextID(uuidString: text)?.description == text)
        #expect(ContextID(uuidString: "0F8FAD5B-D9CB-469F-A165-70867728950E")?.description == text)
        #expect(ContextID(uuidString: "0f8fad5b-d9cb-469f-a165-70867728950") == nil)
        #expect(ContextID(uuidString: "0f8fad5b-d9cb-469f-a165-70867728950g") == nil)
    }

    @Test func everyTruncationIsATypedError() throws {
        let bytes = try Self.full.encoded()
        for length in 0..<bytes.count {
            #expect(throws: ContextCodecError.self) { try ForwardingContext(decoding: Array(bytes[0..<length])) }
        }
    }

    /// The fixed 44-byte prefix is read in one piece when it is all there, field by field when the
    /// buffer is shorter: both ways report the same errors, in the same order.
    @Test func theFixedPrefixFailsAlikeWholeOrCutShort() throws {
        let valid = try Self.full.encoded()
        #expect(valid.count > ForwardingContext.fixedSize)
        for (offset, value, error) in [
            (0, UInt8(2), ContextCodecError.unsupportedVersion(2)), (1, 0x81, .undefinedFieldFlags(0x81)),
            (2, 65, .limitExceeded(field: "attributes", size: 65, limit: 64)),
        ] {
            var bytes = valid
            bytes[offset] = value
            if offset == 2 { bytes[3] = 0 }
            #expect(throws: error) { try ForwardingContext(decoding: bytes) }  // whole prefix
            #expect(throws: error) { try ForwardingContext(decoding: Array(bytes[0...offset + (offset == 2 ? 1 : 0)])) }  // cut short
        }
        for length in 0..<ForwardingContext.fixedSize {
            #expect(throws: ContextCodecError.self) { try ForwardingContext(decoding: Array(valid[0..<length])) }
        }
        #expect(throws: ContextCodecError.truncated(needed: 46, available: 44)) {
            try ForwardingContext(decoding: Array(try ForwardingContext(invocationId: ContextID(high: 1, low: 2)).encoded()[0..<44]))
        }
    }

    @Test func rejectsMalformedFields() throws {
        var bytes = try Self.full.encoded()
        bytes[0] = 2
        #expect(throws: ContextCodecError.unsupportedVersion(2)) { try ForwardingContext(decoding: bytes) }
        bytes = try Self.full.encoded()
        bytes[1] = 0x81
        #expect(throws: ContextCodecError.undefinedFieldFlags(0x81)) { try ForwardingContext(decoding: bytes) }
        bytes = try Self.full.encoded() + [0]
        #expect(throws: ContextCodecError.trailingBytes(1)) { try ForwardingContext(decoding: bytes) }
        bytes = try Self.full.encoded()
        bytes[2] = 200  // attribute count
        #expect(throws: ContextCodecError.limitExceeded(field: "attributes", size: 200, limit: 64)) {
            try ForwardingContext(decoding: bytes)
        }
        // Invalid UTF-8 in the traceparent (offset 52: after the fixed part and the deadline).
        bytes = try Self.full.encoded()
        bytes[54] = 0xFF
        #expect(throws: ContextCodecError.invalidUTF8(field: "traceparent")) { try ForwardingContext(decoding: bytes) }
    }

    @Test func encodeEnforcesLimits() {
        var context = ForwardingContext(invocationId: .zero)
        context.traceparent = String(repeating: "x", count: 257)
        #expect(throws: ContextCodecError.limitExceeded(field: "traceparent", size: 257, limit: 256)) {
            try context.encoded()
        }
        context.traceparent = ""
        context.attributes = (0..<65).map { .init(key: "k\($0)", value: "") }
        #expect(throws: ContextCodecError.limitExceeded(field: "attributes", size: 65, limit: 64)) {
            try context.encoded()
        }
        context.attributes = (0..<8).map { .init(key: "k\($0)", value: String(repeating: "v", count: 4096)) }
        #expect(throws: ContextCodecError.self) { try context.encoded() }
    }

    @Test func randomBytesNeverCrashTheDecoder() {
        var random = TestRandom(seed: 7)
        var decoded = 0
        for _ in 0..<20_000 {
            let count = Int(random.next() % 200)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if count > 1 && random.next() % 2 == 0 { bytes[0] = 1; bytes[1] = 0 }  // get past the version
            if (try? ForwardingContext(decoding: bytes)) != nil { decoded += 1 }
        }
        #expect(decoded < 20_000)
    }
}
