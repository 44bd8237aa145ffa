// BoundedReader — the one reader of untrusted bytes. Every codec that decodes what another process
// wrote uses it: the forwarding context (read straight out of shared memory), the channel's
// handshake/control/log payloads, the gRPC stream frames. Little-endian; every length is checked
// against the bytes present and against a limit before anything is allocated; every byte is read
// once; strings are copied to private memory first and validated as UTF-8 there, so a peer that
// rewrites the bytes meanwhile cannot make a check and a use disagree. Problems are typed errors,
// never traps. Fuzzed through every codec that uses it (Fuzz/RingFuzz.swift).

#if canImport(Glibc)
import Glibc
#endif

/// Why untrusted bytes could not be read.
public enum BoundedReadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes ended before a field: `needed` bytes from the start, `available` present.
    case truncated(field: String, needed: Int, available: Int)
    /// A version byte this build does not read.
    case unsupportedVersion(field: String, found: UInt8)
    /// A type or enumeration value with no meaning here.
    case unknownValue(field: String, value: UInt64)
    /// A string that is not valid UTF-8.
    case invalidUTF8(field: String)
    /// A length or count over its bound.
    case limitExceeded(field: String, size: Int, limit: Int)
    /// Bytes after the last field.
    case trailingBytes(Int)

    public var description: String {
        switch self {
        case .truncated(let field, let needed, let available):
            "payload truncated at \(field): needed \(needed) bytes, \(available) available"
        case .unsupportedVersion(let field, let found): "\(field) version \(found) is not supported"
        case .unknownValue(let field, let value): "\(field) has unknown value \(value)"
        case .invalidUTF8(let field): "\(field) is not valid UTF-8"
        case .limitExceeded(let field, let size, let limit): "\(field) has \(size), limit \(limit)"
        case .trailingBytes(let count): "\(count) bytes follow the last field"
        }
    }
}

/// A sequential reader over untrusted bytes (see the file comment).
@_spi(Codec) public struct BoundedReader {
    public let buffer: UnsafeRawBufferPointer
    /// Bytes read so far. Settable only so the inlined `take` can advance it: codecs in other
    /// modules get a specialised integer read (not the generic one, which looked up type metadata
    /// on every field — 4 % of the host's CPU per invocation in a profile). SPI, not `package`:
    /// Swift 6.3 does not serialise the bodies of `@inlinable package` declarations for other
    /// modules (they are called, unspecialised), only those of public (and SPI) ones.
    public var offset = 0

    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    @inlinable
    public var remaining: Int { buffer.count - offset }

    /// A fixed-width little-endian integer.
    @inlinable
    public mutating func take<T: FixedWidthInteger>(_ field: String) throws(BoundedReadError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw .truncated(field: field, needed: offset + size, available: buffer.count) }
        let value = T(littleEndian: buffer.baseAddress!.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }

    /// A byte that must be 0 or 1.
    @inlinable
    public mutating func takeBool(_ field: String) throws(BoundedReadError) -> Bool {
        let value: UInt8 = try take(field)
        guard value <= 1 else { throw .unknownValue(field: field, value: UInt64(value)) }
        return value == 1
    }

    /// A string with a u16 length, at most `limit` bytes.
    public mutating func takeString(_ field: String, limit: Int = Int(UInt16.max)) throws(BoundedReadError) -> String {
        let count = Int(try take(field) as UInt16)
        return try takeUTF8(field, count: count, limit: limit)
    }

    /// A string with a u32 length, at most `limit` bytes.
    public mutating func takeLongString(_ field: String, limit: Int) throws(BoundedReadError) -> String {
        let count = Int(try take(field) as UInt32)
        return try takeUTF8(field, count: count, limit: limit)
    }

    /// Bytes with a u32 length, at most `limit`, copied.
    public mutating func takeBytes(_ field: String, limit: Int) throws(BoundedReadError) -> [UInt8] {
        let count = Int(try take(field) as UInt32)
        guard count <= limit else { throw .limitExceeded(field: field, size: count, limit: limit) }
        return try takeRaw(field, count: count)
    }

    /// A map of u16-length strings with a u16 count, at most `limit` entries.
    public mutating func takeMap(_ field: String, limit: Int) throws(BoundedReadError) -> [String: String] {
        let count = Int(try take(field) as UInt16)
        guard count <= limit else { throw .limitExceeded(field: field, size: count, limit: limit) }
        var map: [String: String] = [:]
        for _ in 0..<count {
            let key = try takeString("\(field) key", limit: 1024)
            map[key] = try takeString("\(field) value", limit: 4096)
        }
        return map
    }

    /// `count` raw bytes, copied.
    public mutating func takeRaw(_ field: String, count: Int) throws(BoundedReadError) -> [UInt8] {
        [UInt8](try takeView(field, count: count))
    }

    /// `count` bytes as a view into the buffer (valid as long as it is; read it once).
    @inlinable
    public mutating func takeView(_ field: String, count: Int) throws(BoundedReadError) -> UnsafeRawBufferPointer {
        guard count >= 0, remaining >= count else {
            throw .truncated(field: field, needed: offset + max(count, 0), available: buffer.count)
        }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
    }

    /// Everything that is left, as a view (valid as long as the underlying buffer).
    @inlinable
    public mutating func takeRest() -> UnsafeRawBufferPointer {
        let rest = UnsafeRawBufferPointer(rebasing: buffer[offset...])
        offset = buffer.count
        return rest
    }

    /// `bytes` as a String when they are valid UTF-8, else nil. `String(decoding:as:)` (the
    /// standard library's specialised fast path) repairs invalid sequences with U+FFFD, so the
    /// bytes were valid exactly when the string's UTF-8 is the input byte for byte. Used instead of
    /// `String(validating:as:)`, which in Swift 6.3 validates through unspecialised generic code
    /// (metadata lookups per call: 14 % of a worker's reactor thread, decoding 4-byte function names).
    static func validatedUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var string = String(decoding: bytes, as: UTF8.self)
        let same = string.withUTF8 { utf8 in
            utf8.count == bytes.count && (bytes.isEmpty || memcmp(utf8.baseAddress!, bytes.baseAddress!, bytes.count) == 0)
        }
        return same ? string : nil
    }

    /// Throws unless every byte was read.
    public func finish() throws(BoundedReadError) {
        if remaining != 0 { throw .trailingBytes(remaining) }
    }

    /// `count` bytes of UTF-8, at most `limit`: copied out of (possibly shared) memory first, then
    /// validated — the peer cannot change the bytes between the check and the use.
    public mutating func takeUTF8(_ field: String, count: Int, limit: Int) throws(BoundedReadError) -> String {
        guard count <= limit else { throw .limitExceeded(field: field, size: count, limit: limit) }
        let view = try takeView(field, count: count)
        if count == 0 { return "" }
        let string = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { copy -> String? in
            UnsafeMutableRawBufferPointer(copy).copyMemory(from: view)
            return Self.validatedUTF8(UnsafeBufferPointer(copy))
        }
        guard let string else { throw .invalidUTF8(field: field) }
        return string
    }
}
