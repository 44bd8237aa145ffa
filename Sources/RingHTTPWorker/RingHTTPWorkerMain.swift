// RingHTTPWorker — the HTTP functions (HTTPFunctions) as a worker process, behind either route:
//   spawned by FunctionHost (RING_SEGMENT_FD in the environment): serves them over the rings;
//   `--grpc <socket path>`: serves them as the gRPC event stream (EventStreamService) over HTTP/2 on
//   that Unix socket, prints "ready" once it listens, and exits when its parent does.
// The function code is the same object in both cases. Exit status: 2 bad arguments, 4 the channel
// or server failed.
import GRPCCore
import GRPCNIOTransportHTTP2
import HTTPFunctionKit
import Logging
import RingChannel
import RingLinux

#if canImport(Glibc)
import Glibc
#endif

func fail(_ status: Int32, _ message: String) -> Never {
    let line = "RingHTTPWorker: \(message)\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
    exit(status)
}

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .warning
    return handler
}
let logger = Logger(label: "RingHTTPWorker")
let arguments = CommandLine.arguments

struct HTTPWorkerDelegate: ChannelWorkerDelegate {
    /// Everything but `/hang` answers inline, on the reader's turn.
    func invokeInline(_ invocation: Invocation) throws -> InvocationReply? {
        guard invocation.function == HTTPFunctions.functionName else { return .failure(message: "unknown function \(invocation.function)") }
        return HTTPFunctions.answerInline(invocation.payload, context: invocation.context).map { .success($0) }
    }

    func invoke(_ invocation: Invocation) async throws -> InvocationReply {
        guard invocation.function == HTTPFunctions.functionName else { return .failure(message: "unknown function \(invocation.function)") }
        return .success(try await HTTPFunctions.answer(invocation.payload, context: invocation.context))
    }
}

if let flag = arguments.firstIndex(of: "--grpc") {
    guard flag + 1 < arguments.count else { fail(2, "--grpc needs a socket path") }
    let path = arguments[flag + 1]
    let parent = getppid()
    let transport = HTTP2ServerTransport.Posix(
        address: .unixDomainSocket(path: path), transportSecurity: .plaintext,
        config: .defaults {
            $0.rpc.maxRequestPayloadSize = EventStreamMethod.maxMessageBytes
            $0.http2.targetWindowSize = 8 << 20
        })
    let server = GRPCServer(transport: transport, services: [EventStreamService()])
    do {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await server.serve() }
            _ = try await transport.listeningAddress
            let line = Array("ready\n".utf8)
            _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            // A worker never outlives its host.
            group.addTask {
                while getppid() == parent { try await Task.sleep(for: .milliseconds(200)) }
                exit(0)
            }
        }
    } catch {
        fail(4, "\(error)")
    }
} else {
    var configuration = WorkerConfiguration()
    configuration.runtime = "swift http example"
    if ProcessEnvironment.value("RING_HTTP_WAIT_PROFILE") == "efficiency" { configuration.waitProfile = .efficiency }
    do {
        let worker = try ChannelWorker.connectFromEnvironment(configuration: configuration, logger: logger)
        try await worker.run(delegate: HTTPWorkerDelegate())
        exit(0)
    } catch {
        fail(4, "\(error)")
    }
}
