/// The gRPC rows of `ringbench compare` — THE single place where they plug in.
///
/// They come from `GRPCBench` (issue 5, `GRPC*.swift`): "grpc-h2-unix" is grpc-swift over HTTP/2 on a
/// Unix socket, "grpc-ring" the same gRPC client and server over the rings. Once `GRPCBench` is in
/// this module, the entries are:
///
///     static let grpc: [CompareTransport] = [
///         CompareTransport.grpc(.h2Unix, name: "grpc-h2-unix", summary: "grpc-swift 2, HTTP/2 over a Unix socket"),
///         CompareTransport.grpc(.ring, name: "grpc-ring", summary: "grpc-swift 2 over the rings"),
///     ]
///     static func grpc(_ transport: GRPCBenchTransport, name: String, summary: String) -> CompareTransport {
///         CompareTransport(
///             name: name, role: transport == .ring ? .ring : .baseline, summary: summary, throughput: nil,
///             pingpong: { settings, size in try await CompareMeasure.grpc(transport, .unary, name: name, concurrency: 1, …) },
///             invoke: { settings, size in try await CompareMeasure.grpc(transport, .unary, name: name, concurrency: settings.concurrency, …) })
///     }
extension CompareTransport {
    static let grpc: [CompareTransport] = []
}
