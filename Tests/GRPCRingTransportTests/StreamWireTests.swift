// The stream frame codec on its own: round trips, and hostile input (every truncation, absurd
// counts and lengths) rejected with a typed error, never a crash or an allocation of what the
// peer claims.
import GRPCCore
@testable import GRPCRingTransport
import XCTest

final class StreamWireTests: XCTestCase {
    let limits = StreamWireLimits()

    func testMetadataKeysAreLoweredOnTheWireAndOnReceipt() throws {
        var metadata = Metadata()
        metadata.addString("acme", forKey: "X-Tenant-ID")
        metadata.addBinary([9], forKey: "Trace-bin")
        metadata.addString("ünï", forKey: "already-lower")
        let bytes = StreamWire.encodeMetadata(metadata)
        let decoded = try bytes.withUnsafeBytes { try StreamWire.decodeMetadata($0, limits: StreamWireLimits()) }
        XCTAssertEqual(decoded.map(\.key), ["x-tenant-id", "trace-bin", "already-lower"])
        XCTAssertEqual(Array(decoded[stringValues: "x-tenant-id"]), ["acme"])
        XCTAssertEqual(Array(decoded[binaryValues: "trace-bin"]), [[9]])
        XCTAssertEqual(StreamWire.lowercasedKey("x-plain"), "x-plain")
        XCTAssertEqual(StreamWire.lowercasedKey("ÄB-c"), "Äb-c")  // only ASCII letters change
    }

    var sampleMetadata: Metadata {
        var metadata = Metadata()
        metadata.addString("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", forKey: "traceparent")
        metadata.addString("1S", forKey: "grpc-timeout")
        metadata.addBinary([0, 255, 7], forKey: "trace-bin")
        return metadata
    }

    func testOpenRoundTripsWithAndWithoutMessage() throws {
        for message in [nil, [], [1, 2, 3] as [UInt8]] {
            let bytes = StreamWire.encodeOpen(method: "/a.B/C", metadata: sampleMetadata, message: message)
            let open = try bytes.withUnsafeBytes { try StreamWire.decodeOpen($0, limits: limits) }
            XCTAssertEqual(open.method, "/a.B/C")
            XCTAssertEqual(open.metadata, sampleMetadata)
            XCTAssertEqual(open.message, message)
        }
    }

    func testStatusAndResetRoundTrip() throws {
        let bytes = StreamWire.encodeStatus(Status(code: .resourceExhausted, message: "full ✓"), trailers: sampleMetadata)
        let (status, trailers) = try bytes.withUnsafeBytes { try StreamWire.decodeStatus($0, limits: limits) }
        XCTAssertEqual(status, Status(code: .resourceExhausted, message: "full ✓"))
        XCTAssertEqual(trailers, sampleMetadata)
        let reset = StreamWire.encodeReset(code: .cancelled, message: "bye")
        let (code, message) = try reset.withUnsafeBytes { try StreamWire.decodeReset($0, limits: limits) }
        XCTAssertEqual(code, .cancelled)
        XCTAssertEqual(message, "bye")
    }

    func testEveryTruncationIsRejected() {
        let status = StreamWire.encodeStatus(Status(code: .ok, message: "fine"), trailers: sampleMetadata)
        for length in 0..<status.count {
            let prefix = Array(status[..<length])
            XCTAssertThrowsError(try prefix.withUnsafeBytes { try StreamWire.decodeStatus($0, limits: limits) }, "length \(length)")
        }
        let open = StreamWire.encodeOpen(method: "/a.B/C", metadata: sampleMetadata, message: nil)
        for length in 0..<open.count {
            let prefix = Array(open[..<length])
            XCTAssertThrowsError(try prefix.withUnsafeBytes { try StreamWire.decodeOpen($0, limits: limits) }, "length \(length)")
        }
    }

    func testAbsurdCountsAndLengthsAreRejectedBeforeAllocating() {
        // metadata count 0xFFFFFFFF
        let manyEntries: [UInt8] = [0xff, 0xff, 0xff, 0xff]
        XCTAssertThrowsError(try manyEntries.withUnsafeBytes { try StreamWire.decodeMetadata($0, limits: limits) })
        // one entry whose key claims 4 GiB
        let hugeKey: [UInt8] = [1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]
        XCTAssertThrowsError(try hugeKey.withUnsafeBytes { try StreamWire.decodeMetadata($0, limits: limits) })
        // unknown status code, unknown metadata type, bad UTF-8, trailing bytes
        XCTAssertThrowsError(try [200, 0, 0, 0, 0].withUnsafeBytes { try StreamWire.decodeReset($0, limits: limits) })
        XCTAssertThrowsError(try [1, 0, 0, 0, 9, 0, 0, 0, 0].withUnsafeBytes { try StreamWire.decodeMetadata($0, limits: limits) })
        XCTAssertThrowsError(try [1, 2, 0, 0, 0, 0xc3, 0x28].withUnsafeBytes { try StreamWire.decodeReset($0, limits: limits) })
        XCTAssertThrowsError(try [0, 0, 0, 0, 7].withUnsafeBytes { try StreamWire.decodeMetadata($0, limits: limits) })
    }
}
