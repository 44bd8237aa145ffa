// ChannelCodec — the little-endian, length-prefixed binary encoding every channel message payload
// uses (Docs/Protocol.md §3). Pure: no I/O. The reader treats its input as hostile, like the ring
// treats frames: every length is checked before use, every field is read once, UTF-8 is validated,
// and any problem is a typed `ChannelCodecError`, never a trap.

/// Why a channel message payload could not be decoded.
public enum ChannelCodecError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The payload ended before a field: `needed` bytes from the start, `available` present.
    case truncated(field: String, needed: Int, available: Int)
    /// The payload's codec version is not one this build reads.
    case unsupportedVersion(field: String, found: UInt8)
    /// A type or enumeration byte has no meaning here.
    case unknownValue(field: String, value: UInt64)
    /// A string is not valid UTF-8.
    case invalidUTF8(field: String)
    /// A length or count exceeds its bound.
    case limitExceeded(field: String, size: Int, limit: Int)
    /// Bytes follow the last field.
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

/// The UTF-8 bytes of `string`, cut to at most `maxBytes` before a character that would straddle the
/// limit (never inside a UTF-8 sequence).
func utf8Prefix(_ string: String, maxBytes: Int) -> [UInt8] {
    var utf8 = Array(string.utf8)
    if utf8.count > maxBytes {
        var cut = maxBytes
        while cut > 0 && utf8[cut] & 0xC0 == 0x80 { cut -= 1 }
        utf8.removeSubrange(cut...)
    }
    return utf8
}

/// Appends little-endian fields to a byte array.
public struct ChannelEncoder: Sendable {
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func put<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func put(_ value: Bool) { put(UInt8(value ? 1 : 0)) }

    /// A UTF-8 string with a u16 length (the caller keeps it ≤ 65535 bytes; longer is cut at a
    /// character boundary).
    public mutating func putString(_ string: String) {
        let utf8 = utf8Prefix(string, maxBytes: Int(UInt16.max))
        put(UInt16(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// A UTF-8 string with a u32 length, cut to `maxBytes`.
    public mutating func putLongString(_ string: String, maxBytes: Int = Int(UInt32.max)) {
        let utf8 = utf8Prefix(string, maxBytes: maxBytes)
        put(UInt32(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// Bytes with a u32 length.
    public mutating func putBytes(_ data: [UInt8]) {
        put(UInt32(data.count))
        bytes.append(contentsOf: data)
    }

    /// A u16 count, then key and value strings, in key order (so encodings are deterministic).
    public mutating func putMap(_ map: [String: String]) {
        put(UInt16(min(map.count, Int(UInt16.max))))
        for key in map.keys.sorted().prefix(Int(UInt16.max)) {
            putString(key)
            putString(map[key]!)
        }
    }

    /// Raw bytes, no length.
    public mutating func putRaw(_ data: UnsafeRawBufferPointer) { bytes.append(contentsOf: data) }
}

/// Reads little-endian fields from untrusted bytes.
public struct ChannelDecoder {
    let buffer: UnsafeRawBufferPointer
    public private(set) var offset = 0

    public init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    public var remaining: Int { buffer.count - offset }

    public mutating func take<T: FixedWidthInteger>(_ field: String) throws(ChannelCodecError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw .truncated(field: field, needed: offset + size, available: buffer.count) }
        let value = T(littleEndian: buffer.baseAddress!.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }

    public mutating func takeBool(_ field: String) throws(ChannelCodecError) -> Bool {
        let value: UInt8 = try take(field)
        guard value <= 1 else { throw .unknownValue(field: field, value: UInt64(value)) }
        return value == 1
    }

    /// A string with a u16 length, at most `limit` bytes.
    public mutating func takeString(_ field: String, limit: Int = Int(UInt16.max)) throws(ChannelCodecError) -> String {
        let count = Int(try take(field) as UInt16)
        return try takeUTF8(field, count: count, limit: limit)
    }

    /// A string with a u32 length, at most `limit` bytes.
    public mutating func takeLongString(_ field: String, limit: Int) throws(ChannelCodecError) -> String {
        let count = Int(try take(field) as UInt32)
        return try takeUTF8(field, count: count, limit: limit)
    }

    /// Bytes with a u32 length, at most `limit`.
    public mutating func takeBytes(_ field: String, limit: Int) throws(ChannelCodecError) -> [UInt8] {
        let count = Int(try take(field) as UInt32)
        guard count <= limit else { throw .limitExceeded(field: field, size: count, limit: limit) }
        return try takeRaw(field, count: count)
    }

    /// A map written by `putMap`, at most `limit` entries.
    public mutating func takeMap(_ field: String, limit: Int) throws(ChannelCodecError) -> [String: String] {
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
    public mutating func takeRaw(_ field: String, count: Int) throws(ChannelCodecError) -> [UInt8] {
        guard count >= 0, remaining >= count else {
            throw .truncated(field: field, needed: offset + max(count, 0), available: buffer.count)
        }
        let slice = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
        offset += count
        return [UInt8](slice)
    }

    /// Everything that is left, as a view (valid as long as the underlying buffer).
    public mutating func takeRest() -> UnsafeRawBufferPointer {
        let rest = UnsafeRawBufferPointer(rebasing: buffer[offset...])
        offset = buffer.count
        return rest
    }

    /// Throws unless every byte was read.
    public func finish() throws(ChannelCodecError) {
        if remaining != 0 { throw .trailingBytes(remaining) }
    }

    private mutating func takeUTF8(_ field: String, count: Int, limit: Int) throws(ChannelCodecError) -> String {
        guard count <= limit else { throw .limitExceeded(field: field, size: count, limit: limit) }
        // Copy out of (possibly shared) memory first, then validate the copy: the peer cannot change
        // the bytes between the check and the use.
        let copy = try takeRaw(field, count: count)
        guard let string = String(validating: copy, as: UTF8.self) else { throw .invalidUTF8(field: field) }
        return string
    }
}

extension ChannelCodecError {
    /// Runs `body` over the bytes of `array`, keeping the typed error.
    static func decode<T>(_ array: [UInt8], _ body: (inout ChannelDecoder) throws(ChannelCodecError) -> T) throws(ChannelCodecError) -> T {
        var result: Result<T, ChannelCodecError>!
        array.withUnsafeBytes { raw in
            var decoder = ChannelDecoder(raw)
            do throws(ChannelCodecError) { result = .success(try body(&decoder)) } catch { result = .failure(error) }
        }
        return try result.get()
    }
}
