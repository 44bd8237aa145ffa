// BytesBridge — presents an HTTP/2 stream (GRPCNIOTransportBytes) as a `[UInt8]` stream, so the
// `.auto` transports expose one `Bytes` type whichever way a call goes. One copy per message on
// the HTTP/2 path (the remote path, where the network dominates).
import GRPCCore
import GRPCNIOTransportHTTP2

enum BytesBridge {
    static func bytes(_ bytes: GRPCNIOTransportBytes) -> [UInt8] { bytes.withUnsafeBytes { [UInt8]($0) } }

    static func request(_ part: RPCRequestPart<GRPCNIOTransportBytes>) -> RPCRequestPart<[UInt8]> {
        switch part {
        case .metadata(let metadata): .metadata(metadata)
        case .message(let message): .message(bytes(message))
        }
    }

    static func request(_ part: RPCRequestPart<[UInt8]>) -> RPCRequestPart<GRPCNIOTransportBytes> {
        switch part {
        case .metadata(let metadata): .metadata(metadata)
        case .message(let message): .message(GRPCNIOTransportBytes(message))
        }
    }

    static func response(_ part: RPCResponsePart<GRPCNIOTransportBytes>) -> RPCResponsePart<[UInt8]> {
        switch part {
        case .metadata(let metadata): .metadata(metadata)
        case .message(let message): .message(bytes(message))
        case .status(let status, let trailers): .status(status, trailers)
        }
    }

    static func response(_ part: RPCResponsePart<[UInt8]>) -> RPCResponsePart<GRPCNIOTransportBytes> {
        switch part {
        case .metadata(let metadata): .metadata(metadata)
        case .message(let message): .message(GRPCNIOTransportBytes(message))
        case .status(let status, let trailers): .status(status, trailers)
        }
    }
}

/// A writer of `[UInt8]` parts that forwards converted parts to a writer of another part type.
struct BridgingWriter<Element: Sendable, Underlying: Sendable>: ClosableRPCWriterProtocol {
    let underlying: RPCWriter<Underlying>.Closable
    let convert: @Sendable (Element) -> Underlying

    func write(_ element: Element) async throws { try await underlying.write(convert(element)) }
    func write(contentsOf elements: some Sequence<Element>) async throws {
        for element in elements { try await write(element) }
    }
    func finish() async { await underlying.finish() }
    func finish(throwing error: any Error) async { await underlying.finish(throwing: error) }
}
