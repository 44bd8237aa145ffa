#if canImport(Glibc)
import Glibc
#endif
import Logging
import RingChannel
import RingCore
import RingLinux
import RingTestSupport
import Testing

/// A worker pointed at a socket that is not a function host's gets the link layer's typed error,
/// naming both sides, and keeps none of the descriptors it was sent.
@Suite struct ChannelLinkTests {
    @Test func aWorkerAtAGRPCServersSocketIsToldTheProtocol() throws {
        try withWatchdog(seconds: 60) {
            let path = "/tmp/ringchannel-link-\(getpid()).sock"
            unlink(path)
            let segment = try SharedMemorySegment.create(name: "channel-wrong-protocol-test")
            let listener = try LinkListener(
                path: path, allowedUIDs: [getuid()], onFailure: { _, _, _ in },
                onAccept: { socket, _ in
                    defer { close(socket) }
                    try? LinkHandOver.offer(LinkGreeting(linkProtocol: .grpc, pid: getpid(), backend: .ioUringFutex), segment: segment, on: socket)
                })
            defer { listener.stop() }
            let before = ProcessResources.descriptors(matching: "channel-wrong-protocol-test")
            #expect(throws: LinkError.protocolMismatch(offered: "grpc", expected: .ringChannel)) {
                _ = try ChannelWorker.connect(socketPath: path, logger: Logger(label: "worker") { _ in SwiftLogNoOpLogHandler() })
            }
            #expect(ProcessResources.descriptors(matching: "channel-wrong-protocol-test") == before)
        }
    }
}
