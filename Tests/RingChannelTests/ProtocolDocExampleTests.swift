import RingChannel
import RingCore
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

    /// Protocol.md §5, "A whole exchange, byte by byte": every frame as the encoders write it.
    @Test func theWholeExampleExchangeIsWhatTheEncodersWrite() throws {
        let sizes = ChannelRingSizes(hostToWorkerCapacity: 4 << 20, workerToHostCapacity: 4 << 20, maxFrameLength: 1 << 20, maxMessageSize: 1 << 20)
        let hostHello = HostHello(protocolVersions: 1...1, workerID: "bench0#0", hostPID: 4000, ringSizes: sizes, waitBackend: "iouring-futex")
        let workerHello = WorkerHello(
            protocolVersions: 1...1, protocolVersion: 1, workerID: "bench0#0", workerPID: 4242, ringSizes: sizes,
            maxMessageSize: 1 << 20, waitBackend: "futex-thread", maxConcurrency: 256, runtime: "python")
        let context = try ForwardingContext(invocationId: ContextID(high: 1, low: 2), forwardingId: ContextID(high: 3, low: 4)).encoded()
        let frames: [(String, [UInt8])] = [
            ("HostHello", frame(.handshake, stream: 0, payload: hostHello.encoded())),
            ("WorkerHello", frame(.handshake, stream: 0, payload: workerHello.encoded())),
            ("workerInit", frame(.control, stream: 1 << 63 | 1, payload: ControlMessage.workerInit(hostVersion: "ringchannel-1", payload: []).encoded())),
            ("workerInitResponse", frame(.control, stream: 1 << 63 | 1, payload: ControlMessage.workerInitResponse(.success, workerVersion: "1", payload: []).encoded())),
            ("request", frame(.invocationRequest, stream: 1, context: context, payload: InvocationRequestPrefix.encode(function: "echo", payload: Array("hi".utf8)))),
            ("response", frame(.invocationResponse, stream: 1, context: context, payload: InvocationResponsePrefix.encode(status: .success, payload: Array("hi".utf8)))),
        ]
        let documented: [String: String] = [
            "HostHello": """
                65 00 00 00 02 00 03 00 00 00 00 00 00 00 00 00  00 00 00 00 45 00 00 00 45 00 00 00 00 00 00 00
                01 01 01 00 01 00 08 00 62 65 6e 63 68 30 23 30  a0 0f 00 00 00 00 40 00 00 00 00 00 00 00 40 00
                00 00 00 00 00 00 10 00 00 00 00 00 00 00 10 00  00 00 00 00 0d 00 69 6f 75 72 69 6e 67 2d 66 75
                74 65 78 00 00
                """,
            "WorkerHello": """
                7c 00 00 00 02 00 03 00 00 00 00 00 00 00 00 00  00 00 00 00 5c 00 00 00 5c 00 00 00 00 00 00 00
                01 02 01 00 01 00 01 00 08 00 62 65 6e 63 68 30  23 30 92 10 00 00 00 00 40 00 00 00 00 00 00 00
                40 00 00 00 00 00 00 00 10 00 00 00 00 00 00 00  10 00 00 00 00 00 00 00 10 00 00 00 00 00 0c 00
                66 75 74 65 78 2d 74 68 72 65 61 64 00 00 00 00  00 01 00 00 06 00 70 79 74 68 6f 6e
                """,
            "workerInit": """
                35 00 00 00 03 00 03 00 01 00 00 00 00 00 00 80  00 00 00 00 15 00 00 00 15 00 00 00 00 00 00 00
                01 01 0d 00 72 69 6e 67 63 68 61 6e 6e 65 6c 2d  31 00 00 00 00
                """,
            "workerInitResponse": """
                2a 00 00 00 03 00 03 00 01 00 00 00 00 00 00 80  00 00 00 00 0a 00 00 00 0a 00 00 00 00 00 00 00
                01 02 00 01 00 31 00 00 00 00
                """,
            "request": """
                5a 00 00 00 10 00 03 00 01 00 00 00 00 00 00 00  30 00 00 00 0a 00 00 00 0a 00 00 00 00 00 00 00
                01 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00  00 00 00 00 02 00 00 00 00 00 00 00 03 00 00 00
                00 00 00 00 04 00 00 00 00 00 00 00 00 00 00 00  01 00 04 00 65 63 68 6f 68 69
                """,
            "response": """
                5a 00 00 00 11 00 03 00 01 00 00 00 00 00 00 00  30 00 00 00 0a 00 00 00 0a 00 00 00 00 00 00 00
                01 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00  00 00 00 00 02 00 00 00 00 00 00 00 03 00 00 00
                00 00 00 00 04 00 00 00 00 00 00 00 00 00 00 00  01 00 00 00 00 00 00 00 68 69
                """,
        ]
        for (name, bytes) in frames {
            let expected = documented[name]!.split(whereSeparator: { $0 == " " || $0 == "\n" }).map { UInt8($0, radix: 16)! }
            #expect(bytes == expected, "\(name)")
        }
    }

    /// One unfragmented frame: header, context, payload.
    private func frame(_ kind: FrameKind, stream: UInt64, context: [UInt8] = [], payload: [UInt8]) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: FrameHeader.size)
        let length = FrameHeader.size + context.count + payload.count
        header.withUnsafeMutableBytes {
            FrameHeader(
                frameLength: UInt32(length), kind: kind, flags: .unfragmented, streamId: stream, contextLength: UInt32(context.count),
                payloadLength: UInt32(payload.count), messageLength: UInt64(payload.count)
            ).store(to: $0.baseAddress!)
        }
        return header + context + payload
    }
}
