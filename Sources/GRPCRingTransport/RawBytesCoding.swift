public import GRPCCore

/// Serializes `[UInt8]` messages as themselves — for services whose messages are already bytes
/// (benchmarks, tests, hand-written binary codecs).
public struct RawBytesSerializer: MessageSerializer {
    public init() {}
    public func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
}

/// Deserializes messages into `[UInt8]` unchanged.
public struct RawBytesDeserializer: MessageDeserializer {
    public init() {}
    public func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { [UInt8]($0) }
    }
}
