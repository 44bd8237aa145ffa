@_spi(Codec) package import RingCore

// LogRecord — a log line from the worker (FrameKind.log), delivered to the host's logger with the
// invocation it belongs to (Docs/Protocol.md §6).

/// A log record written by worker code.
package struct LogRecord: Equatable, Sendable {
    /// Severity, 0 trace … 6 critical (the order of swift-log's `Logger.Level`).
    package var level: UInt8
    package var category: String
    package var message: String
    /// The host's invocation number (the frame stream id) and the user's invocation id, when the
    /// record was written on behalf of an invocation.
    package var invocation: (number: UInt64, id: ContextID)? {
        get { invocationNumber.map { ($0, invocationID) } }
        set {
            invocationNumber = newValue?.number
            invocationID = newValue?.id ?? .zero
        }
    }
    package var metadata: [String: String]

    var invocationNumber: UInt64?
    var invocationID: ContextID = .zero

    package init(level: UInt8, category: String, message: String, invocation: (number: UInt64, id: ContextID)? = nil, metadata: [String: String] = [:]) {
        self.level = level
        self.category = category
        self.message = message
        self.metadata = metadata
        self.invocation = invocation
    }

    package static func == (a: LogRecord, b: LogRecord) -> Bool {
        a.level == b.level && a.category == b.category && a.message == b.message && a.invocationNumber == b.invocationNumber
            && a.invocationID == b.invocationID && a.metadata == b.metadata
    }

    package func encoded() -> [UInt8] {
        typealias L = ChannelProtocol.Limits
        var e = ChannelEncoder(reservingCapacity: 48 + message.utf8.count)
        e.put(ChannelProtocol.codecVersion)
        e.put(level)
        e.put(UInt8(invocationNumber == nil ? 0 : 1))
        e.put(UInt8(0))
        if let invocationNumber {
            e.put(invocationNumber)
            e.put(invocationID.high)
            e.put(invocationID.low)
        }
        e.putString(String(decoding: utf8Prefix(category, maxBytes: L.maxLogCategoryBytes), as: UTF8.self))
        e.putLongString(message, maxBytes: L.maxLogMessageBytes)
        var bounded: [String: String] = [:]
        for key in metadata.keys.sorted().prefix(L.maxLogMetadataEntries) {
            bounded[String(decoding: utf8Prefix(key, maxBytes: 1024), as: UTF8.self)] =
                String(decoding: utf8Prefix(metadata[key]!, maxBytes: 4096), as: UTF8.self)
        }
        e.putMap(bounded)
        return e.bytes
    }

    package init(decoding bytes: UnsafeRawBufferPointer) throws(ChannelCodecError) {
        typealias L = ChannelProtocol.Limits
        var d = ChannelDecoder(bytes)
        let version: UInt8 = try d.take("log codec version")
        guard version == ChannelProtocol.codecVersion else { throw .unsupportedVersion(field: "log codec", found: version) }
        level = try d.take("log level")
        guard level <= 6 else { throw .unknownValue(field: "log level", value: UInt64(level)) }
        let flags: UInt8 = try d.take("log flags")
        guard flags & ~1 == 0 else { throw .unknownValue(field: "log flags", value: UInt64(flags)) }
        let reserved: UInt8 = try d.take("log reserved")
        guard reserved == 0 else { throw .unknownValue(field: "log reserved", value: UInt64(reserved)) }
        if flags & 1 != 0 {
            invocationNumber = try d.take("log invocation number") as UInt64
            invocationID = ContextID(high: try d.take("log invocation id"), low: try d.take("log invocation id"))
        }
        category = try d.takeString("log category", limit: L.maxLogCategoryBytes)
        message = try d.takeLongString("log message", limit: L.maxLogMessageBytes)
        metadata = try d.takeMap("log metadata", limit: L.maxLogMetadataEntries)
        try d.finish()
    }
}
