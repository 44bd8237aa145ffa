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
    package static func encode(function: String, payload: [UInt8]) -> [UInt8] {
        let name = utf8Prefix(function, maxBytes: ChannelProtocol.Limits.maxFunctionNameBytes)
        var bytes = [UInt8]()
        bytes.reserveCapacity(4 + name.count + payload.count)
        bytes.append(ChannelProtocol.codecVersion)
        bytes.append(0)
        bytes.append(UInt8(truncatingIfNeeded: name.count))
        bytes.append(UInt8(truncatingIfNeeded: name.count >> 8))
        bytes.append(contentsOf: name)
        bytes.append(contentsOf: payload)
        return bytes
    }

    /// Bytes the prefix adds for `function`.
    package static func size(function: String) -> Int { 4 + min(function.utf8.count, ChannelProtocol.Limits.maxFunctionNameBytes) }

    /// Splits a request payload into the function name and the user's payload (copied).
    package static func decode(_ bytes: UnsafeRawBufferPointer) throws(ChannelCodecError) -> (function: String, payload: [UInt8]) {
        var d = ChannelDecoder(bytes)
        let version: UInt8 = try d.take("invocation request version")
        guard version == ChannelProtocol.codecVersion else { throw .unsupportedVersion(field: "invocation request", found: version) }
        let flags: UInt8 = try d.take("invocation request flags")
        guard flags == 0 else { throw .unknownValue(field: "invocation request flags", value: UInt64(flags)) }
        let function = try d.takeString("function", limit: ChannelProtocol.Limits.maxFunctionNameBytes)
        return (function, [UInt8](d.takeRest()))
    }
}

/// `u8 version, u8 status (0 success, 1 failure, 2 cancelled), u16 reserved (0), u32 messageLength,
/// message (UTF-8)`, then the payload.
package enum InvocationResponsePrefix {
    /// Bytes of the prefix with no failure message: a response is at least this plus its body.
    static let minimumSize = 8

    package static func encode(status: InvocationStatus, payload: [UInt8]) -> [UInt8] {
        var message: [UInt8] = []
        let code: UInt8
        switch status {
        case .success: code = 0
        case .failure(let text):
            code = 1
            message = utf8Prefix(text, maxBytes: ChannelProtocol.Limits.maxFailureMessageBytes)
        case .cancelled: code = 2
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(8 + message.count + payload.count)
        bytes.append(ChannelProtocol.codecVersion)
        bytes.append(code)
        bytes.append(0)
        bytes.append(0)
        withUnsafeBytes(of: UInt32(message.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: message)
        bytes.append(contentsOf: payload)
        return bytes
    }

    package static func decode(_ bytes: UnsafeRawBufferPointer) throws(ChannelCodecError) -> (status: InvocationStatus, payload: [UInt8]) {
        var d = ChannelDecoder(bytes)
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
        return (status, [UInt8](d.takeRest()))
    }
}
