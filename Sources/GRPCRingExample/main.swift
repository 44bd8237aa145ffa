// GRPCRingExample — a FunctionRpc-style host and worker over GRPCCore. The host serves the
// bidirectional `EventStream`; the worker is a gRPC client that opens it, says StartStream, answers
// WorkerInitRequest, then runs the invocations the host sends. With `.auto` transports the worker
// uses the rings when the host is on this machine and HTTP/2 otherwise — the code is the same.
//
//   GRPCRingExample demo [--invocations N] [--remote]   host here + worker in a child process
//   GRPCRingExample host <ring socket> <http2 port>     the host alone
//   GRPCRingExample worker <host> <port> <ring socket>  the worker alone
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCRingTransport
import RingLinux
#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "worker" where arguments.count == 4:
    try await ExampleWorker.run(host: arguments[1], port: Int(arguments[2])!, ringSocket: arguments[3])
case "host" where arguments.count == 3:
    try await ExampleHost.serve(ringSocket: arguments[1], port: Int(arguments[2])!, invocations: 10, worker: nil)
case "demo", nil:
    let invocations = arguments.firstIndex(of: "--invocations").flatMap { Int(arguments[$0 + 1]) } ?? 5
    let remote = arguments.contains("--remote")
    let socket = "/tmp/grpc-ring-example-\(getpid()).sock"
    try await ExampleHost.serve(ringSocket: socket, port: 0, invocations: invocations, worker: remote ? "/nonexistent/ring.sock" : socket)
default:
    print("usage: GRPCRingExample demo [--invocations N] [--remote] | host <ring socket> <port> | worker <host> <port> <ring socket>")
    exit(2)
}
