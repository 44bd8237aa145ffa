// GRPCRingFixture — a gRPC server process for the tests that kill the server mid-stream: serves the
// conformance echo method (`conformance.Test/Chat`, bidirectional) over the rings or HTTP/2 on a
// Unix socket, prints "ready" once listening, and runs until killed.
//   GRPCRingFixture ring|h2-unix <socket path>
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCRingTransport
#if canImport(Glibc)
import Glibc
#endif

struct ChatService: RegistrableRPCService {
    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: MethodDescriptor(fullyQualifiedService: "conformance.Test", method: "Chat"),
            deserializer: RawBytesDeserializer(), serializer: RawBytesSerializer()
        ) { request, _ in
            StreamingServerResponse { writer in
                for try await message in request.messages { try await writer.write(message) }
                return [:]
            }
        }
    }
}

/// Writes "ready" to stdout unbuffered (the test reads it through a pipe).
func announceReady() {
    let bytes = Array("ready\n".utf8)
    _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    print("usage: GRPCRingFixture ring|h2-unix <socket path>")
    exit(2)
}
let path = arguments[2]
switch arguments[1] {
case "ring":
    let transport = GRPCRingServerTransport(socketPath: path)
    let server = GRPCServer(transport: transport, services: [ChatService()])
    try await withThrowingDiscardingTaskGroup { group in
        group.addTask { try await server.serve() }
        await transport.waitUntilListening()
        announceReady()
    }
case "h2-unix":
    let transport = HTTP2ServerTransport.Posix(address: .unixDomainSocket(path: path), transportSecurity: .plaintext)
    let server = GRPCServer(transport: transport, services: [ChatService()])
    try await withThrowingDiscardingTaskGroup { group in
        group.addTask { try await server.serve() }
        _ = try await transport.listeningAddress
        announceReady()
    }
default:
    print("unknown transport \(arguments[1])")
    exit(2)
}
