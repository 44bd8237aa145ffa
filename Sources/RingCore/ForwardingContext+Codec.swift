/// Binary encoding of `ForwardingContext`, version 1 (little-endian, no padding):
///
/// ```
/// u8   version (1)
/// u8   fieldFlags   bit 0: deadline present; other bits must be 0
/// u16  attributeCount
/// u32  retryCount
/// u32  maxRetries
/// 16   invocationId (high u64, low u64)
/// 16   forwardingId (high u64, low u64)
/// u64  deadlineNanoseconds            only if bit 0
/// u16  traceparentLength, bytes (UTF-8)
/// u16  tracestateLength, bytes (UTF-8)
/// attributeCount × { u16 keyLength, key bytes, u16 valueLength, value bytes }   (UTF-8)
/// ```
extension ForwardingContext {
    public static let encodingVersion: UInt8 = 1
    package static let fixedSize = 1 + 1 + 2 + 4 + 4 + 16 + 16

    /// Bytes `encode(into:)` writes.
    public var encodedSize: Int {
        var size = Self.fixedSize + (deadlineNanoseconds == nil ? 0 : 8)
        size += 2 + traceparent.utf8.count + 2 + tracestate.utf8.count
        for attribute in attributes { size += 4 + attribute.key.utf8.count + attribute.value.utf8.count }
        return size
    }

    /// Checks every bound in `Limits`.
    public func checkLimits() throws(ContextCodecError) {
        _ = try validatedEncodedSize()
    }

    /// Checks every bound in `Limits` and returns `encodedSize` (computed once).
    public func validatedEncodedSize() throws(ContextCodecError) -> Int {
        typealias L = Limits
        func check(_ field: String, _ size: Int, _ limit: Int) throws(ContextCodecError) {
            if size > limit { throw .limitExceeded(field: field, size: size, limit: limit) }
        }
        let traceparentBytes = traceparent.utf8.count
        let tracestateBytes = tracestate.utf8.count
        try check("traceparent", traceparentBytes, L.maxTraceparentBytes)
        try check("tracestate", tracestateBytes, L.maxTracestateBytes)
        try check("attributes", attributes.count, L.maxAttributes)
        var size = Self.fixedSize + (deadlineNanoseconds == nil ? 0 : 8) + 4 + traceparentBytes + tracestateBytes
        for attribute in attributes {
            let key = attribute.key.utf8.count
            let value = attribute.value.utf8.count
            try check("attribute key", key, L.maxAttributeKeyBytes)
            try check("attribute value", value, L.maxAttributeValueBytes)
            size += 4 + key + value
        }
        try check("encoded context", size, L.maxEncodedSize)
        return size
    }

    /// Encodes into `buffer`, which must be exactly `encodedSize` bytes (typically frame memory
    /// reserved in a ring, so nothing is allocated).
    public func encode(into buffer: UnsafeMutableRawBufferPointer) throws(ContextCodecError) {
        let size = try validatedEncodedSize()
        guard buffer.count == size else { throw .bufferSizeMismatch(expected: size, actual: buffer.count) }
        encodeUnchecked(into: buffer)
    }

    /// Encodes into a buffer of exactly `validatedEncodedSize()` bytes, without re-checking.
    func encodeUnchecked(into buffer: UnsafeMutableRawBufferPointer) {
        var w = RawWriter(buffer)
        w.put(Self.encodingVersion)
        w.put(UInt8(deadlineNanoseconds == nil ? 0 : 1))
        w.put(UInt16(attributes.count))
        w.put(retryCount)
        w.put(maxRetries)
        w.put(invocationId.high)
        w.put(invocationId.low)
        w.put(forwardingId.high)
        w.put(forwardingId.low)
        if let deadline = deadlineNanoseconds { w.put(deadline) }
        w.putString(traceparent)
        w.putString(tracestate)
        for attribute in attributes {
            w.putString(attribute.key)
            w.putString(attribute.value)
        }
        precondition(w.offset == buffer.count, "encodedSize disagrees with encode")
    }

    /// Encodes into a new array.
    public func encoded() throws(ContextCodecError) -> [UInt8] {
        let size = try validatedEncodedSize()
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            encodeUnchecked(into: UnsafeMutableRawBufferPointer(buffer))
            count = size
        }
    }

    /// Decodes exactly `bytes` (possibly untrusted shared memory: every field is read once, every
    /// length is checked before use, and nothing outside `bytes` is touched).
    public init(decoding bytes: UnsafeRawBufferPointer) throws(ContextCodecError) {
        typealias L = Limits
        // The one reader of untrusted bytes (BoundedReader), its errors in this codec's terms.
        var r = BoundedReader(bytes)
        func take<T: FixedWidthInteger>(_ field: String) throws(ContextCodecError) -> T {
            do { return try r.take(field) } catch { throw ContextCodecError(error) }
        }
        func takeString(_ field: String, limit: Int) throws(ContextCodecError) -> String {
            do { return try r.takeString(field, limit: limit) } catch { throw ContextCodecError(error) }
        }
        if bytes.count > L.maxEncodedSize {
            throw .limitExceeded(field: "encoded context", size: bytes.count, limit: L.maxEncodedSize)
        }
        let version: UInt8, fieldFlags: UInt8, attributeCount: Int, retryCount: UInt32, maxRetries: UInt32
        let invocationId: ContextID, forwardingId: ContextID
        if bytes.count >= Self.fixedSize {
            // The fixed prefix, present whole: one bounds check for its ten fields (each still read
            // once), where the field-by-field path below checks each (it was ≈ 4 % of a host
            // thread's time per invocation). Same checks, same order, same errors.
            func load<T: FixedWidthInteger>(_ offset: Int, as type: T.Type) -> T {
                T(littleEndian: bytes.baseAddress!.loadUnaligned(fromByteOffset: offset, as: T.self))
            }
            version = load(0, as: UInt8.self)
            fieldFlags = load(1, as: UInt8.self)
            attributeCount = Int(load(2, as: UInt16.self))
            retryCount = load(4, as: UInt32.self)
            maxRetries = load(8, as: UInt32.self)
            invocationId = ContextID(high: load(12, as: UInt64.self), low: load(20, as: UInt64.self))
            forwardingId = ContextID(high: load(28, as: UInt64.self), low: load(36, as: UInt64.self))
            r.offset = Self.fixedSize
            guard version == Self.encodingVersion else { throw .unsupportedVersion(version) }
            guard fieldFlags & ~1 == 0 else { throw .undefinedFieldFlags(fieldFlags) }
            guard attributeCount <= L.maxAttributes else {
                throw .limitExceeded(field: "attributes", size: attributeCount, limit: L.maxAttributes)
            }
        } else {
            version = try take("version")
            guard version == Self.encodingVersion else { throw .unsupportedVersion(version) }
            fieldFlags = try take("field flags")
            guard fieldFlags & ~1 == 0 else { throw .undefinedFieldFlags(fieldFlags) }
            attributeCount = Int(try take("attribute count") as UInt16)
            guard attributeCount <= L.maxAttributes else {
                throw .limitExceeded(field: "attributes", size: attributeCount, limit: L.maxAttributes)
            }
            retryCount = try take("retryCount")
            maxRetries = try take("maxRetries")
            invocationId = ContextID(high: try take("invocationId"), low: try take("invocationId"))
            forwardingId = ContextID(high: try take("forwardingId"), low: try take("forwardingId"))
        }
        let deadline: UInt64? = fieldFlags & 1 != 0 ? try take("deadline") as UInt64 : nil
        let traceparent = try takeString("traceparent", limit: L.maxTraceparentBytes)
        let tracestate = try takeString("tracestate", limit: L.maxTracestateBytes)
        var attributes: [Attribute] = []
        // Not for 0: reserving on the empty array allocates a buffer (of capacity 0) every time.
        if attributeCount > 0 { attributes.reserveCapacity(attributeCount) }
        for _ in 0..<attributeCount {
            let key = try takeString("attribute key", limit: L.maxAttributeKeyBytes)
            let value = try takeString("attribute value", limit: L.maxAttributeValueBytes)
            attributes.append(Attribute(key: key, value: value))
        }
        guard r.remaining == 0 else { throw .trailingBytes(r.remaining) }
        self.init(
            invocationId: invocationId, forwardingId: forwardingId, traceparent: traceparent,
            tracestate: tracestate, deadlineNanoseconds: deadline, retryCount: retryCount,
            maxRetries: maxRetries, attributes: attributes)
    }

    public init(decoding bytes: [UInt8]) throws(ContextCodecError) {
        var result: Result<ForwardingContext, ContextCodecError>!
        bytes.withUnsafeBytes { raw in
            do throws(ContextCodecError) { result = .success(try ForwardingContext(decoding: raw)) } catch {
                result = .failure(error)
            }
        }
        self = try result.get()
    }
}

/// Sequential little-endian writer over a buffer whose size was computed beforehand.
struct RawWriter {
    let buffer: UnsafeMutableRawBufferPointer
    var offset = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    mutating func put<T: FixedWidthInteger>(_ value: T) {
        precondition(offset + MemoryLayout<T>.size <= buffer.count)
        buffer.baseAddress!.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
    }

    mutating func putString(_ string: String) {
        let count = string.utf8.count
        put(UInt16(count))
        precondition(offset + count <= buffer.count)
        let target = UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
        let copied: Void? = string.utf8.withContiguousStorageIfAvailable { source in
            target.copyMemory(from: UnsafeRawBufferPointer(source))
        }
        if copied == nil { target.copyBytes(from: string.utf8) }
        offset += count
    }
}

extension ContextCodecError {
    /// The one reader's error in this codec's terms.
    init(_ error: BoundedReadError) {
        switch error {
        case .truncated(_, let needed, let available): self = .truncated(needed: needed, available: available)
        case .invalidUTF8(let field): self = .invalidUTF8(field: field)
        case .limitExceeded(let field, let size, let limit): self = .limitExceeded(field: field, size: size, limit: limit)
        case .trailingBytes(let count): self = .trailingBytes(count)
        case .unsupportedVersion(_, let found): self = .unsupportedVersion(found)
        case .unknownValue(_, let value): self = .undefinedFieldFlags(UInt8(truncatingIfNeeded: value))
        }
    }
}
