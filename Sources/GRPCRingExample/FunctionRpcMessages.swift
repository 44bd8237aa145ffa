// FunctionRpcMessages — a FunctionRpc-style message set (modelled on the Azure Functions host ↔
// worker protocol: StreamingMessage with a oneof of StartStream, WorkerInitRequest/Response,
// InvocationRequest/Response) and its hand-written binary serializer: no protoc, no swift-protobuf.
// Encoding: u8 tag, then the fields in order; strings and byte fields are u32 length + bytes.
import GRPCCore

enum StreamingMessage: Sendable, Equatable {
    case startStream(workerID: String)
    case workerInitRequest(hostVersion: String)
    case workerInitResponse(workerVersion: String, ok: Bool)
    case invocationRequest(invocationID: String, functionID: String, payload: [UInt8])
    case invocationResponse(invocationID: String, ok: Bool, payload: [UInt8])
}

enum FunctionRpc {
    static let eventStream = MethodDescriptor(
        fullyQualifiedService: "AzureFunctionsRpcMessages.FunctionRpc", method: "EventStream", type: .bidirectionalStreaming)
}

struct StreamingMessageSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: StreamingMessage) throws -> Bytes {
        var out: [UInt8] = []
        func put(_ bytes: [UInt8]) {
            let count = UInt32(bytes.count)
            out += [UInt8(truncatingIfNeeded: count), UInt8(truncatingIfNeeded: count >> 8), UInt8(truncatingIfNeeded: count >> 16), UInt8(truncatingIfNeeded: count >> 24)]
            out += bytes
        }
        func put(_ string: String) { put(Array(string.utf8)) }
        switch message {
        case .startStream(let worker): out.append(1); put(worker)
        case .workerInitRequest(let version): out.append(2); put(version)
        case .workerInitResponse(let version, let ok): out.append(3); put(version); out.append(ok ? 1 : 0)
        case .invocationRequest(let id, let function, let payload): out.append(4); put(id); put(function); put(payload)
        case .invocationResponse(let id, let ok, let payload): out.append(5); put(id); out.append(ok ? 1 : 0); put(payload)
        }
        return Bytes(out)
    }
}

struct StreamingMessageDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> StreamingMessage {
        try serializedMessageBytes.withUnsafeBytes { raw in
            var offset = 0
            func fail(_ why: String) -> RPCError { RPCError(code: .invalidArgument, message: "StreamingMessage: \(why)") }
            func byte() throws -> UInt8 {
                guard offset < raw.count else { throw fail("truncated") }
                defer { offset += 1 }
                return raw[offset]
            }
            func bytes() throws -> [UInt8] {
                guard raw.count - offset >= 4 else { throw fail("truncated length") }
                let count = (0..<4).reduce(0) { $0 | Int(raw[offset + $1]) << (8 * $1) }
                offset += 4
                guard raw.count - offset >= count else { throw fail("field of \(count) bytes, \(raw.count - offset) left") }
                defer { offset += count }
                return [UInt8](raw[offset..<(offset + count)])
            }
            func string() throws -> String {
                guard let string = String(validating: try bytes(), as: UTF8.self) else { throw fail("invalid UTF-8") }
                return string
            }
            let message: StreamingMessage
            switch try byte() {
            case 1: message = .startStream(workerID: try string())
            case 2: message = .workerInitRequest(hostVersion: try string())
            case 3: message = .workerInitResponse(workerVersion: try string(), ok: try byte() == 1)
            case 4: message = .invocationRequest(invocationID: try string(), functionID: try string(), payload: try bytes())
            case 5: message = .invocationResponse(invocationID: try string(), ok: try byte() == 1, payload: try bytes())
            case let tag: throw fail("unknown tag \(tag)")
            }
            guard offset == raw.count else { throw fail("\(raw.count - offset) trailing bytes") }
            return message
        }
    }
}
