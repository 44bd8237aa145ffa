// HTTPPayload — how an HTTP request travels to a worker as an invocation payload, and how the
// worker's answer comes back (Docs/HTTP.md, "Payloads", byte by byte). The same bytes go over the
// rings (the `http` function's payload) and over gRPC (after the invocation prefix of
// GRPCEventStreamMessage), so a worker's HTTP code is the same behind both routes.
//
// Decoded with RingCore's BoundedReader (the one reader of untrusted bytes). Layout (little-endian), request:
//   u8 version (1) | u16 method length | method | u16 target length | target
//   | u16 header count | per header: u16 name length | name | u32 value length | value
//   | u32 body length | body
// reply:
//   u8 version (1) | u16 status | u16 header count | headers as above | u32 body length | body
// Nothing may follow the body. Both sides decode untrusted bytes: every length is checked before
// use and every bound below is enforced, with a typed error naming the field.

@_spi(Codec) import RingCore

/// One HTTP request as a function sees it.
package struct HTTPFunctionRequest: Sendable, Equatable {
    package var method: String
    /// The request target as it arrived (path and query).
    package var target: String
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]

    package init(method: String, target: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }

    /// The first value of `name` (ASCII case-insensitive).
    package func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    package static func == (a: Self, b: Self) -> Bool {
        a.method == b.method && a.target == b.target && a.body == b.body
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }
}

/// A function's HTTP answer.
package struct HTTPFunctionReply: Sendable, Equatable {
    package var status: Int
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]

    package init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    package static func == (a: Self, b: Self) -> Bool {
        a.status == b.status && a.body == b.body
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }
}

/// Why a payload could not be decoded (or encoded: a field over its bound).
package enum HTTPPayloadError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(field: String)
    case unsupportedVersion(UInt8)
    case limitExceeded(field: String, size: Int, limit: Int)
    case invalidUTF8(field: String)
    case invalidStatus(Int)
    case trailingBytes(Int)
    /// The event stream's context bytes did not decode (ForwardingContext's codec said why).
    case invalidContext(String)

    package var description: String {
        switch self {
        case .truncated(let field): "HTTP payload truncated in \(field)"
        case .unsupportedVersion(let version): "HTTP payload version \(version) is not supported (this side speaks 1)"
        case .limitExceeded(let field, let size, let limit): "HTTP payload \(field) of \(size) exceeds \(limit)"
        case .invalidUTF8(let field): "HTTP payload \(field) is not valid UTF-8"
        case .invalidStatus(let status): "HTTP payload status \(status) is not in 100...599"
        case .trailingBytes(let count): "HTTP payload has \(count) bytes after the body"
        case .invalidContext(let detail): "context: \(detail)"
        }
    }
}

/// The payload format's bounds and codec.
package enum HTTPPayload {
    package static let version: UInt8 = 1
    package static let maxMethodBytes = 32
    package static let maxTargetBytes = 8192
    package static let maxHeaders = 128
    package static let maxHeaderNameBytes = 256
    package static let maxHeaderValueBytes = 8192

    package static func encode(_ request: HTTPFunctionRequest) throws(HTTPPayloadError) -> [UInt8] {
        var writer = PayloadWriter(capacity: 16 + request.method.utf8.count + request.target.utf8.count + request.body.count)
        writer.u8(version)
        try writer.string(request.method, field: "method", lengthBytes: 2, limit: maxMethodBytes)
        try writer.string(request.target, field: "target", lengthBytes: 2, limit: maxTargetBytes)
        try writer.headers(request.headers)
        writer.body(request.body)
        return writer.bytes
    }

    package static func encode(_ reply: HTTPFunctionReply) throws(HTTPPayloadError) -> [UInt8] {
        guard (100...599).contains(reply.status) else { throw .invalidStatus(reply.status) }
        var writer = PayloadWriter(capacity: 16 + reply.body.count)
        writer.u8(version)
        writer.u16(reply.status)
        try writer.headers(reply.headers)
        writer.body(reply.body)
        return writer.bytes
    }

    package static func decodeRequest(_ bytes: [UInt8]) throws(HTTPPayloadError) -> HTTPFunctionRequest {
        try PayloadReader.read(bytes) { reader throws(HTTPPayloadError) in
            try reader.expectVersion()
            let method = try reader.string(field: "method", lengthBytes: 2, limit: maxMethodBytes)
            let target = try reader.string(field: "target", lengthBytes: 2, limit: maxTargetBytes)
            let headers = try reader.headers()
            let body = try reader.body()
            return HTTPFunctionRequest(method: method, target: target, headers: headers, body: body)
        }
    }

    package static func decodeReply(_ bytes: [UInt8]) throws(HTTPPayloadError) -> HTTPFunctionReply {
        try PayloadReader.read(bytes) { reader throws(HTTPPayloadError) in
            try reader.expectVersion()
            let status = try reader.integer(bytes: 2, field: "status")
            guard (100...599).contains(status) else { throw .invalidStatus(status) }
            let headers = try reader.headers()
            let body = try reader.body()
            return HTTPFunctionReply(status: status, headers: headers, body: body)
        }
    }
}

/// Appends little-endian fields.
struct PayloadWriter {
    var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: Int) { integer(value, bytes: 2) }
    mutating func integer(_ value: Int, bytes count: Int) {
        for index in 0..<count { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }

    mutating func string(_ text: String, field: String, lengthBytes: Int, limit: Int) throws(HTTPPayloadError) {
        let utf8 = text.utf8
        guard utf8.count <= limit else { throw .limitExceeded(field: field, size: utf8.count, limit: limit) }
        integer(utf8.count, bytes: lengthBytes)
        bytes.append(contentsOf: utf8)
    }

    mutating func headers(_ headers: [(name: String, value: String)]) throws(HTTPPayloadError) {
        guard headers.count <= HTTPPayload.maxHeaders else {
            throw .limitExceeded(field: "header count", size: headers.count, limit: HTTPPayload.maxHeaders)
        }
        u16(headers.count)
        for header in headers {
            try string(header.name, field: "header name", lengthBytes: 2, limit: HTTPPayload.maxHeaderNameBytes)
            try string(header.value, field: "header value", lengthBytes: 4, limit: HTTPPayload.maxHeaderValueBytes)
        }
    }

    mutating func body(_ body: [UInt8]) {
        integer(body.count, bytes: 4)
        bytes.append(contentsOf: body)
    }
}

/// This payload's view of the one reader of untrusted bytes (RingCore's BoundedReader): its fields
/// and bounds, its errors as `HTTPPayloadError`.
struct PayloadReader {
    var reader: BoundedReader

    /// Runs `body` over the bytes of `array`.
    static func read<T>(_ array: [UInt8], _ body: (inout PayloadReader) throws(HTTPPayloadError) -> T) throws(HTTPPayloadError) -> T {
        var result: Result<T, HTTPPayloadError>!
        array.withUnsafeBytes { raw in
            var reader = PayloadReader(reader: BoundedReader(raw))
            do throws(HTTPPayloadError) { result = .success(try body(&reader)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    private static func payload<T>(_ body: () throws(BoundedReadError) -> T) throws(HTTPPayloadError) -> T {
        do { return try body() } catch {
            switch error {
            case .truncated(let field, _, _): throw .truncated(field: field)
            case .limitExceeded(let field, let size, let limit): throw .limitExceeded(field: field, size: size, limit: limit)
            case .invalidUTF8(let field): throw .invalidUTF8(field: field)
            case .trailingBytes(let count): throw .trailingBytes(count)
            case .unsupportedVersion(_, let found): throw .unsupportedVersion(found)
            case .unknownValue(let field, _): throw .truncated(field: field)
            }
        }
    }

    var offset: Int { reader.offset }

    mutating func expectVersion() throws(HTTPPayloadError) {
        let version = UInt8(try integer(bytes: 1, field: "version"))
        guard version == HTTPPayload.version else { throw .unsupportedVersion(version) }
    }

    /// A little-endian integer of 1, 2, 4 or 8 bytes.
    mutating func integer(bytes count: Int, field: String) throws(HTTPPayloadError) -> Int {
        try Self.payload { () throws(BoundedReadError) in
            switch count {
            case 1: Int(try reader.take(field) as UInt8)
            case 2: Int(try reader.take(field) as UInt16)
            case 4: Int(try reader.take(field) as UInt32)
            default: Int(truncatingIfNeeded: try reader.take(field) as UInt64)
            }
        }
    }

    mutating func take(_ count: Int, field: String) throws(HTTPPayloadError) -> [UInt8] {
        try Self.payload { () throws(BoundedReadError) in try reader.takeRaw(field, count: count) }
    }

    mutating func string(field: String, lengthBytes: Int, limit: Int) throws(HTTPPayloadError) -> String {
        let count = try integer(bytes: lengthBytes, field: field)
        return try Self.payload { () throws(BoundedReadError) in try reader.takeUTF8(field, count: count, limit: limit) }
    }

    mutating func headers() throws(HTTPPayloadError) -> [(name: String, value: String)] {
        let count = try integer(bytes: 2, field: "header count")
        guard count <= HTTPPayload.maxHeaders else { throw .limitExceeded(field: "header count", size: count, limit: HTTPPayload.maxHeaders) }
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(count)
        for _ in 0..<count {
            let name = try string(field: "header name", lengthBytes: 2, limit: HTTPPayload.maxHeaderNameBytes)
            let value = try string(field: "header value", lengthBytes: 4, limit: HTTPPayload.maxHeaderValueBytes)
            headers.append((name, value))
        }
        return headers
    }

    /// The body, which must end the payload exactly.
    mutating func body() throws(HTTPPayloadError) -> [UInt8] {
        let count = try integer(bytes: 4, field: "body length")
        let body = try take(count, field: "body")
        try Self.payload { () throws(BoundedReadError) in try reader.finish() }
        return body
    }

    /// Everything left, copied.
    mutating func rest() -> [UInt8] { [UInt8](reader.takeRest()) }
}
