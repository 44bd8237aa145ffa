// StreamWire — the payloads of the gRPC stream frames (FrameKind 0x20…0x24), encoded and decoded
// without I/O. Every length read from the peer is checked against the bytes present and a limit
// before anything is allocated (the peer's memory is untrusted). See Docs/GRPC.md, "Frames".
//
//   streamOpen      c→s  u8 version, u8 hasMessage, str method, metadata, [message bytes to the end]
//   streamMetadata  s→c  metadata
//   streamMessage   both message bytes (the whole payload); with endOfStream and no payload: half-close
//   streamStatus    s→c  u8 code, str message, metadata (trailers)
//   streamReset     both u8 code, str message
//
// str = u32 length + UTF-8; metadata = u32 count, then per entry u8 type (0 string, 1 binary),
// str key, u32 length + value bytes.
import GRPCCore
@_spi(Codec) import RingCore

/// Why a stream frame could not be decoded.
public struct StreamWireError: Error, Equatable, Sendable, CustomStringConvertible {
    public let detail: String
    public init(_ detail: String) { self.detail = detail }
    public var description: String { "malformed stream frame: \(detail)" }
}

/// Limits on what a peer can make this side decode.
public struct StreamWireLimits: Sendable, Equatable {
    /// Metadata entries in one frame.
    public var maxMetadataEntries: Int = 1024
    /// Bytes of one key, one value, a method path or a status message.
    public var maxFieldBytes: Int = 1 << 20
    /// Streams one connection may have open at once (server side); more is a protocol violation.
    public var maxConcurrentStreams: Int = 65_536
    public init() {}
}

enum StreamWire {
    static let version: UInt8 = 1

    // MARK: Encoding

    static func encodeOpen(method: String, metadata: Metadata, message: [UInt8]?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + method.utf8.count + (message?.count ?? 0))
        out.append(version)
        out.append(message == nil ? 0 : 1)
        putString(method, into: &out)
        putMetadata(metadata, into: &out)
        if let message { out.append(contentsOf: message) }
        return out
    }

    static func encodeMetadata(_ metadata: Metadata) -> [UInt8] {
        var out: [UInt8] = []
        putMetadata(metadata, into: &out)
        return out
    }

    static func encodeStatus(_ status: Status, trailers: Metadata) -> [UInt8] {
        var out: [UInt8] = [UInt8(truncatingIfNeeded: status.code.rawValue)]
        putString(status.message, into: &out)
        putMetadata(trailers, into: &out)
        return out
    }

    static func encodeReset(code: Status.Code, message: String) -> [UInt8] {
        var out: [UInt8] = [UInt8(truncatingIfNeeded: code.rawValue)]
        putString(message, into: &out)
        return out
    }

    private static func putU32(_ value: Int, into out: inout [UInt8]) {
        let v = UInt32(truncatingIfNeeded: value)
        out.append(UInt8(truncatingIfNeeded: v)); out.append(UInt8(truncatingIfNeeded: v >> 8))
        out.append(UInt8(truncatingIfNeeded: v >> 16)); out.append(UInt8(truncatingIfNeeded: v >> 24))
    }

    private static func putString(_ string: String, into out: inout [UInt8]) {
        let utf8 = string.utf8
        putU32(utf8.count, into: &out)
        out.append(contentsOf: utf8)
    }

    /// Metadata keys go on the wire lowercased, as HTTP/2 carries them (gRPC keys are
    /// case-insensitive ASCII), so both routes of `.auto` show a handler the same keys.
    private static func putMetadata(_ metadata: Metadata, into out: inout [UInt8]) {
        putU32(metadata.count, into: &out)
        for (key, value) in metadata {
            switch value {
            case .string(let string):
                out.append(0)
                putString(lowercasedKey(key), into: &out)
                putString(string, into: &out)
            case .binary(let bytes):
                out.append(1)
                putString(lowercasedKey(key), into: &out)
                putU32(bytes.count, into: &out)
                out.append(contentsOf: bytes)
            }
        }
    }

    /// `key` with ASCII upper-case letters lowered; the key itself (no copy) when it has none.
    static func lowercasedKey(_ key: String) -> String {
        guard key.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return key }
        return String(decoding: key.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    // MARK: Decoding

    struct Open {
        var method: String
        var metadata: Metadata
        var message: [UInt8]?
    }

    static func decodeOpen(_ bytes: UnsafeRawBufferPointer, limits: StreamWireLimits) throws(StreamWireError) -> Open {
        var reader = WireReader(bytes, limits: limits)
        let found = try reader.u8("version")
        guard found == version else { throw StreamWireError("stream open version \(found), expected \(version)") }
        let hasMessage = try reader.u8("hasMessage")
        guard hasMessage <= 1 else { throw StreamWireError("hasMessage \(hasMessage)") }
        let method = try reader.string("method")
        let metadata = try reader.metadata()
        let message = hasMessage == 1 ? reader.rest() : nil
        if hasMessage == 0 { try reader.finish() }
        return Open(method: method, metadata: metadata, message: message)
    }

    static func decodeMetadata(_ bytes: UnsafeRawBufferPointer, limits: StreamWireLimits) throws(StreamWireError) -> Metadata {
        var reader = WireReader(bytes, limits: limits)
        let metadata = try reader.metadata()
        try reader.finish()
        return metadata
    }

    static func decodeStatus(_ bytes: UnsafeRawBufferPointer, limits: StreamWireLimits) throws(StreamWireError) -> (Status, Metadata) {
        var reader = WireReader(bytes, limits: limits)
        let code = try reader.statusCode()
        let message = try reader.string("status message")
        let trailers = try reader.metadata()
        try reader.finish()
        return (Status(code: code, message: message), trailers)
    }

    static func decodeReset(_ bytes: UnsafeRawBufferPointer, limits: StreamWireLimits) throws(StreamWireError) -> (Status.Code, String) {
        var reader = WireReader(bytes, limits: limits)
        let code = try reader.statusCode()
        let message = try reader.string("reset message")
        try reader.finish()
        return (code, message)
    }
}

/// The stream codec's view of the one reader of untrusted bytes (RingCore's BoundedReader): its
/// limits, its fields (u32 lengths), its errors as `StreamWireError`. Strings are copied out of the
/// ring before they are validated.
struct WireReader {
    private var reader: BoundedReader
    let limits: StreamWireLimits

    init(_ bytes: UnsafeRawBufferPointer, limits: StreamWireLimits) {
        reader = BoundedReader(bytes)
        self.limits = limits
    }

    private static func wire<T>(_ body: () throws(BoundedReadError) -> T) throws(StreamWireError) -> T {
        do { return try body() } catch { throw StreamWireError("\(error)") }
    }

    mutating func u8(_ field: String) throws(StreamWireError) -> UInt8 {
        try Self.wire { () throws(BoundedReadError) in try reader.take(field) }
    }

    mutating func u32(_ field: String) throws(StreamWireError) -> Int {
        try Self.wire { () throws(BoundedReadError) in Int(try reader.take(field) as UInt32) }
    }

    mutating func string(_ field: String) throws(StreamWireError) -> String {
        let limit = limits.maxFieldBytes
        return try Self.wire { () throws(BoundedReadError) in try reader.takeLongString(field, limit: limit) }
    }

    mutating func statusCode() throws(StreamWireError) -> Status.Code {
        let raw = try u8("status code")
        guard let code = Status.Code(rawValue: Int(raw)) else { throw StreamWireError("status code \(raw)") }
        return code
    }

    mutating func metadata() throws(StreamWireError) -> Metadata {
        let count = try u32("metadata count")
        guard count <= limits.maxMetadataEntries else {
            throw StreamWireError("\(count) metadata entries exceed \(limits.maxMetadataEntries)")
        }
        var metadata = Metadata()
        metadata.reserveCapacity(count)
        let limit = limits.maxFieldBytes
        for _ in 0..<count {
            let type = try u8("metadata type")
            // A peer that is not this code may send upper case: lowered as HTTP/2 would have it.
            let key = StreamWire.lowercasedKey(try string("metadata key"))
            switch type {
            case 0: metadata.addString(try string("metadata value"), forKey: key)
            case 1:
                let value = try Self.wire { () throws(BoundedReadError) in try reader.takeBytes("metadata binary value", limit: limit) }
                metadata.addBinary(value, forKey: key)
            default: throw StreamWireError("metadata type \(type)")
            }
        }
        return metadata
    }

    /// Everything not read yet (a message), copied.
    mutating func rest() -> [UInt8] { [UInt8](reader.takeRest()) }

    func finish() throws(StreamWireError) {
        try Self.wire { () throws(BoundedReadError) in try reader.finish() }
    }
}
