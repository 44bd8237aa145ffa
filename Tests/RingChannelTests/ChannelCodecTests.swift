// ChannelCodecTests — the channel payload encodings: round trips of every message, the handshake
// decision naming what differed, and hostile input (random bytes, every truncation, every flipped
// byte) that must end in a typed error or a valid value — never a trap.
@testable import RingChannel
import RingCore
import RingTestSupport
import Testing

@Suite struct ChannelCodecTests {
    static let sizes = ChannelRingSizes(hostToWorkerCapacity: 1 << 20, workerToHostCapacity: 1 << 20, maxFrameLength: 1 << 18, maxMessageSize: 4 << 20)
    static let hostHello = HostHello(
        workerID: "w#0", hostPID: 100, ringSizes: sizes, waitBackend: "iouring-futex", capabilities: ["RawHttpBodyBytes": "true", "é": "ü"])
    static let workerHello = WorkerHello(
        protocolVersions: 1...1, protocolVersion: 1, workerID: "w#0", workerPID: 200, ringSizes: sizes, maxMessageSize: 4 << 20,
        waitBackend: "futex-thread", capabilities: ["TypedDataCollection": "1"], requiredHostCapabilities: ["RawHttpBodyBytes"],
        maxConcurrency: 64, runtime: "swift 6.3")
    static let controls: [ControlMessage] = [
        .workerInit(hostVersion: "4.1", payload: [1, 2, 3]),
        .workerInitResponse(.success, workerVersion: "1.0", payload: []),
        .workerInitResponse(.failure(message: "no ✓"), workerVersion: "", payload: [9]),
        .functionLoad(functionID: "HttpTrigger", metadata: Array("{}".utf8)),
        .functionLoadResponse(functionID: "HttpTrigger", .failure(message: "missing")),
        .statusRequest,
        .statusResponse(WorkerStatus(running: 3, queued: 4, completed: 5)),
        .terminate(gracePeriodNanoseconds: 5_000_000_000),
    ]
    static let log = LogRecord(
        level: 3, category: "Function.Http", message: "hello ✓", invocation: (7, ContextID(high: 1, low: 2)), metadata: ["k": "v"])

    @Test func everyMessageRoundTrips() throws {
        #expect(try Self.hostHello.encoded().withUnsafeBytes { try HostHello(decoding: $0) } == Self.hostHello)
        #expect(try Self.workerHello.encoded().withUnsafeBytes { try WorkerHello(decoding: $0) } == Self.workerHello)
        for control in Self.controls {
            #expect(try control.encoded().withUnsafeBytes { try ControlMessage(decoding: $0) } == control)
        }
        #expect(try Self.log.encoded().withUnsafeBytes { try LogRecord(decoding: $0) } == Self.log)
        let bare = LogRecord(level: 0, category: "", message: "")
        #expect(try bare.encoded().withUnsafeBytes { try LogRecord(decoding: $0) } == bare)
        let request = InvocationRequestPrefix.encode(function: "fn", payload: [1, 2])
        #expect(request == [1, 0, 2, 0, 0x66, 0x6E, 1, 2])
        let decoded = try request.withUnsafeBytes { try InvocationRequestPrefix.decode($0) }
        #expect(decoded.function == "fn" && decoded.payload == [1, 2])
        for status in [InvocationStatus.success, .failure(message: "bad ✓"), .cancelled] {
            let bytes = InvocationResponsePrefix.encode(status: status, payload: [5])
            let back = try bytes.withUnsafeBytes { try InvocationResponsePrefix.decode($0) }
            #expect(back.status == status && back.payload == [5])
        }
        #expect(InvocationResponsePrefix.encode(status: .cancelled, payload: []) == [1, 2, 0, 0, 0, 0, 0, 0])
    }

    /// Large requests and responses reach the reader's split (`MessageReader.drain(splitting:)`):
    /// the prefix's length read from the first fragment, then the private copy decoded exactly.
    @Test func splitPrefixesAreSizedFromTheFirstFragmentAndDecodedExactly() throws {
        let body: [UInt8] = (0..<1000).map { UInt8(truncatingIfNeeded: $0) }
        let request = InvocationRequestPrefix.encode(function: "fn", payload: body)
        #expect(request.withUnsafeBytes { InvocationRequestPrefix.splitLength($0) } == 6)
        #expect(request.withUnsafeBytes { InvocationRequestPrefix.splitLength(UnsafeRawBufferPointer(rebasing: $0[0..<6])) } == 6)
        #expect(request.withUnsafeBytes { InvocationRequestPrefix.splitLength(UnsafeRawBufferPointer(rebasing: $0[0..<5])) } == nil)
        #expect(request.withUnsafeBytes { InvocationRequestPrefix.splitLength(UnsafeRawBufferPointer(rebasing: $0[0..<3])) } == nil)
        let decoded = try Array(request[0..<6]).withUnsafeBytes { try InvocationRequestPrefix.decode(prefix: $0, body: body) }
        #expect(decoded.function == "fn" && decoded.payload == body)
        // The peer changed the length between the split and the copy: the prefix no longer matches.
        #expect(throws: ChannelCodecError.trailingBytes(1)) {
            try Array(request[0..<7]).withUnsafeBytes { try InvocationRequestPrefix.decode(prefix: $0, body: body) }
        }
        #expect(throws: ChannelCodecError.self) {
            try Array(request[0..<5]).withUnsafeBytes { try InvocationRequestPrefix.decode(prefix: $0, body: body) }
        }

        let failure = InvocationResponsePrefix.encode(status: .failure(message: "no"), payload: body)
        #expect(failure.withUnsafeBytes { InvocationResponsePrefix.splitLength($0) } == 10)
        #expect(failure.withUnsafeBytes { InvocationResponsePrefix.splitLength(UnsafeRawBufferPointer(rebasing: $0[0..<9])) } == nil)
        let success = InvocationResponsePrefix.encode(status: .success, payload: body)
        #expect(success.withUnsafeBytes { InvocationResponsePrefix.splitLength($0) } == 8)
        var hostile = success
        hostile.withUnsafeMutableBytes { $0.storeBytes(of: UInt32(ChannelProtocol.Limits.maxFailureMessageBytes + 1).littleEndian, toByteOffset: 4, as: UInt32.self) }
        #expect(hostile.withUnsafeBytes { InvocationResponsePrefix.splitLength($0) } == nil)
        let back = try Array(failure[0..<10]).withUnsafeBytes { try InvocationResponsePrefix.decode(prefix: $0, body: body) }
        #expect(back.status == .failure(message: "no") && back.payload == body)
        #expect(throws: ChannelCodecError.trailingBytes(2)) {
            try Array(success[0..<10]).withUnsafeBytes { try InvocationResponsePrefix.decode(prefix: $0, body: body) }
        }
    }

    @Test func longStringsAreCutAtCharacterBoundaries() throws {
        let long = String(repeating: "é", count: 40_000)  // 80,000 bytes
        let bytes = InvocationResponsePrefix.encode(status: .failure(message: long), payload: [])
        let back = try bytes.withUnsafeBytes { try InvocationResponsePrefix.decode($0) }
        guard case .failure(let message) = back.status else { Issue.record("status"); return }
        #expect(message.utf8.count <= ChannelProtocol.Limits.maxFailureMessageBytes && message.allSatisfy { $0 == "é" })
    }

    @Test func hostileBytesNeverTrap() {
        var random = TestRandom(seed: 0xC4A7)
        var encodings: [[UInt8]] = [Self.hostHello.encoded(), Self.workerHello.encoded(), Self.log.encoded()]
        encodings += Self.controls.map { $0.encoded() }
        encodings.append(InvocationRequestPrefix.encode(function: "f", payload: [1]))
        encodings.append(InvocationResponsePrefix.encode(status: .failure(message: "m"), payload: [2]))
        var inputs: [[UInt8]] = []
        for encoding in encodings {
            for cut in 0..<encoding.count { inputs.append(Array(encoding[..<cut])) }
            for index in encoding.indices {
                var flipped = encoding
                flipped[index] ^= UInt8(truncatingIfNeeded: random.next() | 1)
                inputs.append(flipped)
            }
        }
        for _ in 0..<20_000 {
            let count = Int(random.next() % 96)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if count > 1 && random.next() % 2 == 0 { bytes[0] = 1 }  // past the version check
            inputs.append(bytes)
        }
        var decoded = 0
        for input in inputs {
            input.withUnsafeBytes { raw in
                if (try? HostHello(decoding: raw)) != nil { decoded += 1 }
                if (try? WorkerHello(decoding: raw)) != nil { decoded += 1 }
                if (try? ControlMessage(decoding: raw)) != nil { decoded += 1 }
                if (try? LogRecord(decoding: raw)) != nil { decoded += 1 }
                if (try? InvocationRequestPrefix.decode(raw)) != nil { decoded += 1 }
                if (try? InvocationResponsePrefix.decode(raw)) != nil { decoded += 1 }
            }
        }
        #expect(inputs.count > 20_000)
        // Truncations fail with typed errors: spot-check one of each kind.
        let hello = Self.hostHello.encoded()
        #expect(throws: ChannelCodecError.truncated(field: "hostPID", needed: 15, available: 13)) {
            _ = try Array(hello[..<13]).withUnsafeBytes { try HostHello(decoding: $0) }
        }
        #expect(throws: ChannelCodecError.trailingBytes(1)) { _ = try (hello + [0]).withUnsafeBytes { try HostHello(decoding: $0) } }
        #expect(throws: ChannelCodecError.unknownValue(field: "control type", value: 99)) {
            _ = try [UInt8]([1, 99]).withUnsafeBytes { try ControlMessage(decoding: $0) }
        }
        #expect(throws: ChannelCodecError.invalidUTF8(field: "function")) {
            _ = try [UInt8]([1, 0, 1, 0, 0xFF]).withUnsafeBytes { try InvocationRequestPrefix.decode($0) }
        }
    }
}

@Suite struct HandshakeCheckTests {
    let host = ChannelCodecTests.hostHello
    var worker: WorkerHello {
        var hello = ChannelCodecTests.workerHello
        hello.waitBackend = "futex-thread"
        hello.requiredHostCapabilities = []
        return hello
    }

    @Test func aMatchingWorkerIsAccepted() throws {
        #expect(try HandshakeCheck.evaluate(host: host, worker: worker, expectedPID: 200, requiredWorkerCapabilities: ["TypedDataCollection"]) == 1)
    }

    @Test func eachDifferenceIsNamed() {
        func check(_ change: (inout WorkerHello) -> Void, host: HostHello? = nil, required: Set<String> = [], _ expected: HandshakeMismatch) {
            var w = worker
            change(&w)
            #expect(throws: expected) {
                try HandshakeCheck.evaluate(host: host ?? self.host, worker: w, expectedPID: 200, requiredWorkerCapabilities: required)
            }
        }
        check({ $0.protocolVersions = 2...3; $0.protocolVersion = 0 }, .protocolVersion(host: 1...1, worker: 2...3, chosen: 0))
        check({ $0.protocolVersion = 2 }, .protocolVersion(host: 1...1, worker: 1...1, chosen: 2))
        check({ $0.workerID = "other" }, .workerID(expected: "w#0", found: "other"))
        check({ $0.workerPID = 201 }, .workerPID(expected: 200, found: 201))
        check({ $0.ringSizes.workerToHostCapacity = 4096 }, .ringSizes(field: "workerToHostCapacity", host: 1 << 20, worker: 4096))
        check({ $0.maxMessageSize = 10 }, .maxMessageSize(hostRequires: 4 << 20, workerAccepts: 10))
        check({ $0.waitBackend = "iouring-eventfd" }, .waitBackend(host: "iouring-futex", worker: "iouring-eventfd"))
        check({ _ in }, required: ["Zeta", "Alpha", "TypedDataCollection"], .missingCapabilities(side: .worker, missing: ["Alpha", "Zeta"]))
        check({ $0.requiredHostCapabilities = ["Streaming"] }, .missingCapabilities(side: .host, missing: ["Streaming"]))
        #expect(WorkerHello.chooseVersion(host: 1...3, worker: 2...5) == 3)
        #expect(WorkerHello.chooseVersion(host: 1...1, worker: 2...5) == 0)
    }
}
