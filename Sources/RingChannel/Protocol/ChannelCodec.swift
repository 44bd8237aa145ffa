// ChannelCodec — the little-endian, length-prefixed binary encoding every channel message payload
// uses (Docs/Protocol.md §3). Pure: no I/O. The reader treats its input as hostile, like the ring
// treats frames: every length is checked before use, every field is read once, UTF-8 is validated,
// and any problem is a typed `ChannelCodecError`, never a trap.
@_spi(Codec) public import RingCore

/// Why a channel message payload could not be decoded: the one reader's error (RingCore's
/// BoundedReader).
public typealias ChannelCodecError = BoundedReadError

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
struct ChannelEncoder: Sendable {
    private(set) var bytes: [UInt8]

    init(reservingCapacity capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func put<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func put(_ value: Bool) { put(UInt8(value ? 1 : 0)) }

    /// A UTF-8 string with a u16 length (the caller keeps it ≤ 65535 bytes; longer is cut at a
    /// character boundary).
    mutating func putString(_ string: String) {
        let utf8 = utf8Prefix(string, maxBytes: Int(UInt16.max))
        put(UInt16(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// A UTF-8 string with a u32 length, cut to `maxBytes`.
    mutating func putLongString(_ string: String, maxBytes: Int = Int(UInt32.max)) {
        let utf8 = utf8Prefix(string, maxBytes: maxBytes)
        put(UInt32(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// Bytes with a u32 length.
    mutating func putBytes(_ data: [UInt8]) {
        put(UInt32(data.count))
        bytes.append(contentsOf: data)
    }

    /// A u16 count, then key and value strings, in key order (so encodings are deterministic).
    mutating func putMap(_ map: [String: String]) {
        put(UInt16(min(map.count, Int(UInt16.max))))
        for key in map.keys.sorted().prefix(Int(UInt16.max)) {
            putString(key)
            putString(map[key]!)
        }
    }

    /// Raw bytes, no length.
    mutating func putRaw(_ data: UnsafeRawBufferPointer) { bytes.append(contentsOf: data) }
}

/// Reads little-endian fields from untrusted bytes.
/// The decoder of channel payloads: RingCore's BoundedReader, the one reader of untrusted bytes.
typealias ChannelDecoder = BoundedReader

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
