// InvocationFrames — the small prefixes in front of the user's opaque payload in invocation request
// and response frames (Docs/Protocol.md §5). The forwarding context is not here: it travels in the
// frame's context field, published by the same store as the payload.
@_spi(Codec) import RingCore

/// How an invocation ended, as the worker reports it.
public enum InvocationStatus: Equatable, Sendable, CustomStringConvertible {
    case success
    /// The handler failed; `message` says why (the payload may still carry data).
    case failure(message: String)
    /// The handler ended because it was cancelled (by the host's cancel, a deadline or a drain).
    case cancelled

    public var description: String {
        switch self {
        case .success: "success"
        case .failure(let message): "failure: \(message)"
        case .cancelled: "cancelled"
        }
    }
}

/// `u8 version, u8 flags (0), u16 functionLength, function (UTF-8)`, then the payload.
package enum InvocationRequestPrefix {
    /// The request payload: prefix + `payload`, in one new array (the bytes the frame carries).
    /// A name over the limit is cut at a character boundary (callers validate names first).
    package static func encode(function: String, payload: [UInt8]) -> [UInt8] {
        let name = utf8Prefix(function, maxBytes: ChannelProtocol.Limits.maxFunctionNameBytes)
        return name.withUnsafeBytes { name in
            payload.withUnsafeBytes { payload in
                [UInt8](unsafeUninitializedCapacity: 4 + name.count + payload.count) { buffer, count in
                    write(name: name, payload: payload, into: UnsafeMutableRawBufferPointer(buffer))
                    count = buffer.count
                }
            }
        }
    }

    /// Bytes of the request payload for a validated `function` and a payload of `payloadCount` bytes.
    package static func size(validatedFunction function: String, payloadCount: Int) -> Int {
        4 + function.utf8.count + payloadCount
    }

    /// Writes the request payload for a validated `function` (1…`maxFunctionNameBytes` bytes) into
    /// `out`, which is exactly `size(validatedFunction:payloadCount:)` bytes: the request built
    /// where it goes (the ring's frame), with no array in between.
    package static func write(validatedFunction function: String, payload: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        var function = function
        function.withUTF8 { name in write(name: UnsafeRawBufferPointer(name), payload: payload, into: out) }
    }

    private static func write(name: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        precondition(name.count <= ChannelProtocol.Limits.maxFunctionNameBytes && out.count == 4 + name.count + payload.count)
        out[0] = ChannelProtocol.codecVersion
        out[1] = 0
        out[2] = UInt8(truncatingIfNeeded: name.count)
        out[3] = UInt8(truncatingIfNeeded: name.count >> 8)
        UnsafeMutableRawBufferPointer(rebasing: out[4..<(4 + name.count)]).copyMemory(from: name)
        UnsafeMutableRawBufferPointer(rebasing: out[(4 + name.count)...]).copyMemory(from: payload)
    }

    /// Splits a request payload into the function name and the user's payload (copied).
    package static func decode(_ bytes: UnsafeRawBufferPointer) throws(ChannelCodecError) -> (function: String, payload: [UInt8]) {
        var d = ChannelDecoder(bytes)
        let function = try function(&d)
        return (function, [UInt8](d.takeRest()))
    }

    /// Reads the prefix up to the payload: the function name.
    private static func function(_ d: inout ChannelDecoder) throws(ChannelCodecError) -> String {
        let version: UInt8 = try d.take("invocation request version")
        guard version == ChannelProtocol.codecVersion else { throw .unsupportedVersion(field: "invocation request", found: version) }
        let flags: UInt8 = try d.take("invocation request flags")
        guard flags == 0 else { throw .unknownValue(field: "invocation request flags", value: UInt64(flags)) }
        return try d.takeString("function", limit: ChannelProtocol.Limits.maxFunctionNameBytes)
    }

    /// The prefix's length as the first fragment of a large request gives it (the reader keeps
    /// those bytes apart and assembles the payload straight into the array the invocation gets:
    /// `MessageReader.drain(splitting:)`); nil when the fragment does not hold the whole prefix.
    package static func splitLength(_ firstFragment: UnsafeRawBufferPointer) -> Int? {
        guard firstFragment.count >= 4 else { return nil }
        let length = 4 + (Int(firstFragment[2]) | Int(firstFragment[3]) << 8)
        return length <= firstFragment.count ? length : nil
    }

    /// Decodes a request the reader split: `prefix` must be exactly the prefix (the peer may have
    /// changed the length between the split and the copy: a prefix with bytes left over, or cut
    /// short, is malformed), `body` becomes the payload as it is.
    package static func decode(prefix: UnsafeRawBufferPointer, body: [UInt8]) throws(ChannelCodecError) -> (function: String, payload: [UInt8]) {
        var d = ChannelDecoder(prefix)
        let function = try function(&d)
        try d.finish()
        return (function, body)
    }
}

/// `u8 version, u8 status (0 success, 1 failure, 2 cancelled), u16 reserved (0), u32 messageLength,
/// message (UTF-8)`, then the payload.
package enum InvocationResponsePrefix {
    /// Bytes of the prefix with no failure message: a response is at least this plus its body.
    static let minimumSize = 8

    package static func encode(status: InvocationStatus, payload: [UInt8]) -> [UInt8] {
        let (code, message) = parts(status)
        return message.withUnsafeBytes { message in
            payload.withUnsafeBytes { payload in
                [UInt8](unsafeUninitializedCapacity: minimumSize + message.count + payload.count) { buffer, count in
                    write(code: code, message: message, payload: payload, into: UnsafeMutableRawBufferPointer(buffer))
                    count = buffer.count
                }
            }
        }
    }

    /// The status code and the failure message as sent (cut to the limit at a character
    /// boundary; empty unless `.failure`, and then without an allocation).
    static func parts(_ status: InvocationStatus) -> (code: UInt8, message: [UInt8]) {
        switch status {
        case .success: (0, [])
        case .failure(let text): (1, utf8Prefix(text, maxBytes: ChannelProtocol.Limits.maxFailureMessageBytes))
        case .cancelled: (2, [])
        }
    }

    /// Writes the prefix and `payload` into `out`, exactly `minimumSize + message.count +
    /// payload.count` bytes (the reply built in the ring's frame, no array in between).
    static func write(code: UInt8, message: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count == minimumSize + message.count + payload.count)
        out[0] = ChannelProtocol.codecVersion
        out[1] = code
        out[2] = 0
        out[3] = 0
        out.storeBytes(of: UInt32(truncatingIfNeeded: message.count).littleEndian, toByteOffset: 4, as: UInt32.self)
        UnsafeMutableRawBufferPointer(rebasing: out[minimumSize..<(minimumSize + message.count)]).copyMemory(from: message)
        UnsafeMutableRawBufferPointer(rebasing: out[(minimumSize + message.count)...]).copyMemory(from: payload)
    }

    package static func decode(_ bytes: UnsafeRawBufferPointer) throws(ChannelCodecError) -> (status: InvocationStatus, payload: [UInt8]) {
        let (status, payload) = try decodeInPlace(bytes)
        return (status, [UInt8](payload))
    }

    /// `decode` without the copy: the payload is the rest of `bytes`, where it lies.
    package static func decodeInPlace(_ bytes: UnsafeRawBufferPointer) throws(ChannelCodecError) -> (status: InvocationStatus, payload: UnsafeRawBufferPointer) {
        var d = ChannelDecoder(bytes)
        let status = try status(&d)
        return (status, d.takeRest())
    }

    /// The prefix's length as the first fragment of a large response gives it (see
    /// `InvocationRequestPrefix.splitLength`); nil when the fragment does not hold the whole prefix.
    package static func splitLength(_ firstFragment: UnsafeRawBufferPointer) -> Int? {
        guard firstFragment.count >= minimumSize else { return nil }
        let message = UInt32(littleEndian: firstFragment.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        guard message <= UInt32(ChannelProtocol.Limits.maxFailureMessageBytes) else { return nil }
        let length = minimumSize + Int(message)
        return length <= firstFragment.count ? length : nil
    }

    /// Decodes a response the reader split: `prefix` must be exactly the prefix (see
    /// `InvocationRequestPrefix.decode(prefix:body:)`), `body` becomes the payload as it is.
    package static func decode(prefix: UnsafeRawBufferPointer, body: [UInt8]) throws(ChannelCodecError) -> (status: InvocationStatus, payload: [UInt8]) {
        var d = ChannelDecoder(prefix)
        let status = try status(&d)
        try d.finish()
        return (status, body)
    }

    /// Reads the prefix up to the payload.
    private static func status(_ d: inout ChannelDecoder) throws(ChannelCodecError) -> InvocationStatus {
        let version: UInt8 = try d.take("invocation response version")
        guard version == ChannelProtocol.codecVersion else { throw .unsupportedVersion(field: "invocation response", found: version) }
        let code: UInt8 = try d.take("invocation status")
        let reserved: UInt16 = try d.take("invocation response reserved")
        guard reserved == 0 else { throw .unknownValue(field: "invocation response reserved", value: UInt64(reserved)) }
        let message = try d.takeLongString("failure message", limit: ChannelProtocol.Limits.maxFailureMessageBytes)
        let status: InvocationStatus
        switch code {
        case 0: status = .success
        case 1: status = .failure(message: message)
        case 2: status = .cancelled
        default: throw .unknownValue(field: "invocation status", value: UInt64(code))
        }
        if code != 1 && !message.isEmpty { throw .unknownValue(field: "message of a non-failure", value: UInt64(message.utf8.count)) }
        return status
    }
}
