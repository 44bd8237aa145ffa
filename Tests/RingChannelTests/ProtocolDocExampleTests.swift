import RingChannel
import Testing

/// The byte-level examples in Docs/Protocol.md are produced by the code: if the encoding changes,
/// this fails and the docs must change with it.
@Suite struct ProtocolDocExampleTests {
    /// Protocol.md §5, "Example — a worker answering `ringbench invoke`".
    @Test func workerHelloExampleIsWhatTheEncoderWrites() {
        let hello = WorkerHello(
            protocolVersions: 1...1, protocolVersion: 1, workerID: "bench0#0", workerPID: 4242,
            ringSizes: ChannelRingSizes(hostToWorkerCapacity: 4 << 20, workerToHostCapacity: 4 << 20, maxFrameLength: 1 << 20, maxMessageSize: 1 << 20),
            maxMessageSize: 1 << 20, waitBackend: "futex-thread", maxConcurrency: 256, runtime: "python")
        let documented = """
            01 02 01 00 01 00 01 00 08 00 62 65 6e 63 68 30  23 30 92 10 00 00 00 00 40 00 00 00 00 00 00 00
            40 00 00 00 00 00 00 00 10 00 00 00 00 00 00 00  10 00 00 00 00 00 00 00 10 00 00 00 00 00 0c 00
            66 75 74 65 78 2d 74 68 72 65 61 64 00 00 00 00  00 01 00 00 06 00 70 79 74 68 6f 6e
            """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { UInt8($0, radix: 16)! }
        #expect(hello.encoded() == documented)
        #expect(documented.count == 92)
    }
}
