#if canImport(Glibc)
    import Glibc
#endif
import RingCore
import RingLinux
import RingTestSupport
import Synchronization
import Testing

/// The link layer's greeting (one format for both protocols, versioned, bounded) and its hand-over
/// over a real socket: what is accepted byte for byte, and the typed error for everything else.
@Suite struct LinkGreetingTests {
    private func parse(_ text: String, _ expected: LinkProtocol = .ringChannel) throws(LinkError) -> LinkGreeting {
        try LinkGreeting.parse(Array(text.utf8), expecting: expected)
    }

    @Test func theGreetingsBytesAreExactAndParseBack() throws {
        let channel = LinkGreeting(linkProtocol: .ringChannel, pid: 4242, backend: .ioUringEventfd, name: "bench0#3")
        #expect(String(decoding: channel.bytes, as: UTF8.self) == "RINGLINK/1\nprotocol=ringchannel\npid=4242\nbackend=iouring-eventfd\nname=bench0#3\n")
        #expect(try LinkGreeting.parse(channel.bytes, expecting: .ringChannel) == channel)
        let grpc = LinkGreeting(linkProtocol: .grpc, pid: 7, backend: .futexThread)
        #expect(String(decoding: grpc.bytes, as: UTF8.self) == "RINGLINK/1\nprotocol=grpc\npid=7\nbackend=futex-thread\n")
        #expect(try LinkGreeting.parse(grpc.bytes, expecting: .grpc) == grpc)
        // A name cannot smuggle a line in.
        let sneaky = LinkGreeting(linkProtocol: .ringChannel, pid: 1, backend: .ioUringFutex, name: "a\nprotocol=grpc")
        #expect(try LinkGreeting.parse(sneaky.bytes, expecting: .ringChannel).name == "aprotocol=grpc")
    }

    @Test func unknownKeysAreIgnoredAndOrderIsFree() throws {
        let greeting = try parse("RINGLINK/1\nfuture=1\nbackend=iouring-futex\nname=w\npid=9\nprotocol=ringchannel\n")
        #expect(greeting == LinkGreeting(linkProtocol: .ringChannel, pid: 9, backend: .ioUringFutex, name: "w"))
    }

    @Test func otherVersionsAndTheOldGreetingsAreAVersionMismatch() {
        #expect(throws: LinkError.versionMismatch(offered: "RINGCHANNEL1", supported: "RINGLINK/1")) {
            try parse("RINGCHANNEL1\nworker-0\niouring-futex\n")
        }
        #expect(throws: LinkError.versionMismatch(offered: "GRPCRING1", supported: "RINGLINK/1")) { try parse("GRPCRING1\n123\n", .grpc) }
        #expect(throws: LinkError.versionMismatch(offered: "RINGLINK/2", supported: "RINGLINK/1")) {
            try parse("RINGLINK/2\nprotocol=ringchannel\npid=9\nbackend=iouring-futex\n")
        }
    }

    @Test func aLinkOfTheOtherProtocolIsNamed() {
        #expect(throws: LinkError.protocolMismatch(offered: "grpc", expected: .ringChannel)) {
            try parse("RINGLINK/1\nprotocol=grpc\npid=9\nbackend=iouring-futex\n")
        }
        #expect(throws: LinkError.protocolMismatch(offered: "ringchannel", expected: .grpc)) {
            try parse("RINGLINK/1\nprotocol=ringchannel\npid=9\nbackend=iouring-futex\n", .grpc)
        }
        #expect(throws: LinkError.protocolMismatch(offered: "smtp", expected: .grpc)) {
            try parse("RINGLINK/1\nprotocol=smtp\npid=9\nbackend=iouring-futex\n", .grpc)
        }
    }

    @Test func malformedGreetingsAreRefusedWithTheReason() {
        let cases: [(String, String)] = [
            ("", "empty"),
            ("\n", "empty"),
            ("RINGLINK/1\nprotocol=ringchannel\npid=9\nbackend=iouring-futex", "the last line is not terminated"),
            ("RINGLINK/1\nprotocol=ringchannel\nbackend=iouring-futex\n", "no pid= line"),
            ("RINGLINK/1\npid=9\nbackend=iouring-futex\n", "no protocol= line"),
            ("RINGLINK/1\nprotocol=ringchannel\npid=9\n", "no backend= line"),
            ("RINGLINK/1\nprotocol=ringchannel\npid=-4\nbackend=iouring-futex\n", "pid=-4 is not a pid"),
            ("RINGLINK/1\nprotocol=ringchannel\npid=0\nbackend=iouring-futex\n", "pid=0 is not a pid"),
            ("RINGLINK/1\nprotocol=ringchannel\npid=99999999999\nbackend=iouring-futex\n", "pid=99999999999 is not a pid"),
            ("RINGLINK/1\nprotocol=ringchannel\npid=9\nbackend=epoll\n", "backend=epoll is not a wait backend"),
            ("RINGLINK/1\nprotocol=ringchannel\npid=9\npid=10\nbackend=iouring-futex\n", "key \"pid\" repeated"),
            ("RINGLINK/1\nprotocol=ringchannel\npid 9\nbackend=iouring-futex\n", "line \"pid 9\" is not key=value"),
            ("RINGLINK/1\n=x\nprotocol=ringchannel\npid=9\nbackend=iouring-futex\n", "line \"=x\" is not key=value"),
        ]
        for (text, reason) in cases {
            #expect(throws: LinkError.malformedGreeting(reason), "\(text.debugDescription)") { try parse(text) }
        }
        #expect(throws: LinkError.malformedGreeting("not UTF-8")) { try LinkGreeting.parse([0xFF, 0x0A], expecting: .grpc) }
        let huge = Array("RINGLINK/1\nprotocol=grpc\npid=9\nbackend=iouring-futex\npad=".utf8) + [UInt8](repeating: 0x41, count: 4096) + [0x0A]
        #expect(throws: LinkError.malformedGreeting("\(huge.count) bytes (at most 4096)")) { try LinkGreeting.parse(huge, expecting: .grpc) }
    }

    // MARK: Hand-over over a real socket

    private func socketPath(_ tag: String) -> String {
        let path = "/tmp/ringlink-\(tag)-\(getpid()).sock"
        unlink(path)
        return path
    }

    private func listener(
        _ path: String, allowed: Set<UInt32> = [getuid()], onReject: @escaping @Sendable (PeerCredentials) -> Void = { _ in },
        offer: @escaping @Sendable (Int32) throws -> Void
    ) throws -> LinkListener {
        try LinkListener(
            path: path, allowedUIDs: allowed, onFailure: { error, _, _ in Issue.record("accept failed: \(error)") }, onReject: onReject,
            onAccept: { socket, _ in
                defer { close(socket) }
                do { try offer(socket) } catch { Issue.record("offer failed: \(error)") }
            })
    }

    @Test func theSegmentAndTheGreetingArriveTogether() throws {
        try withWatchdog(seconds: 60) {
            let path = socketPath("handover")
            let segment = try SharedMemorySegment.create(name: "link-handover-test")
            let greeting = LinkGreeting(linkProtocol: .grpc, pid: getpid(), backend: .ioUringFutex)
            let listener = try listener(path) { socket in try LinkHandOver.offer(greeting, segment: segment, on: socket) }
            defer { listener.stop() }
            let received = try LinkHandOver.receive(path: path, expecting: .grpc)
            #expect(received.greeting == greeting)
            #expect(received.credentials.pid == getpid() && received.credentials.uid == getuid())
            #expect(received.doorbellDescriptors.isEmpty)
            let attached = try SharedMemorySegment.attach(descriptor: OwnedDescriptor(adopting: received.segmentDescriptor), role: .worker)
            #expect(attached.configuration == segment.configuration)
        }
    }

    @Test func aRefusedGreetingClosesEveryDescriptorItBrought() throws {
        try withWatchdog(seconds: 60) {
            let path = socketPath("old")
            let segment = try SharedMemorySegment.create(name: "link-old-greeting-test")
            let listener = try listener(path) { socket in
                try UnixSocket.send(socket, bytes: Array("RINGCHANNEL1\nworker-0\niouring-futex\n".utf8), descriptors: [segment.unsafeFileDescriptor])
            }
            defer { listener.stop() }
            let before = ProcessResources.descriptors(matching: "link-old-greeting-test")
            #expect(throws: LinkError.versionMismatch(offered: "RINGCHANNEL1", supported: "RINGLINK/1")) {
                try LinkHandOver.receive(path: path, expecting: .ringChannel)
            }
            #expect(ProcessResources.descriptors(matching: "link-old-greeting-test") == before)
            // The same socket offering a gRPC link to a worker: the protocol is named.
            let grpcPath = socketPath("wrongproto")
            let grpc = try self.listener(grpcPath) { socket in
                try LinkHandOver.offer(LinkGreeting(linkProtocol: .grpc, pid: getpid(), backend: .ioUringFutex), segment: segment, on: socket)
            }
            defer { grpc.stop() }
            #expect(throws: LinkError.protocolMismatch(offered: "grpc", expected: .ringChannel)) {
                try LinkHandOver.receive(path: grpcPath, expecting: .ringChannel)
            }
            #expect(ProcessResources.descriptors(matching: "link-old-greeting-test") == before)
        }
    }

    @Test func aPeerOfAnotherUIDIsReportedAndGetsNothing() throws {
        try withWatchdog(seconds: 60) {
            let path = socketPath("uid")
            let rejected = Mutex<[PeerCredentials]>([])
            let listener = try listener(path, allowed: [getuid() &+ 1], onReject: { credentials in rejected.withLock { $0.append(credentials) } }) { _ in
                Issue.record("a refused peer reached onAccept")
            }
            defer { listener.stop() }
            #expect {
                try LinkHandOver.receive(path: path, expecting: .grpc)
            } throws: { error in
                guard case .unreachable(let at, let cause)? = error as? LinkError else { return false }
                return at == path && cause.errno == ECONNRESET
            }
            #expect(rejected.withLock { $0.map(\.pid) } == [getpid()])
        }
    }

    @Test func aMissingSocketIsUnreachable() {
        let path = socketPath("missing")
        #expect {
            try LinkHandOver.receive(path: path, expecting: .ringChannel)
        } throws: { error in
            guard case .unreachable(let at, let cause)? = error as? LinkError else { return false }
            return at == path && cause.errno == ENOENT
        }
    }
}
