// The HTTP function host end to end, for every route: real HTTP/1.1 connections, a few thousand
// requests with distinct bodies, every response byte-exact, the counters exact; a worker killed
// while it holds a request answers 503 and its restart takes the next ones; the negative control
// answers every request exactly once, each missing key counted.
#if canImport(Glibc)
import Glibc
#endif
@testable import HTTPFunctionKit
import Logging
import RingChannel
import RingCore
import RingLinux
import RingTestSupport
import Synchronization
import Testing

/// Worker processes share two cores: one host at a time.
@Suite(.serialized) struct HTTPHostTests {
    enum Route: String, CaseIterable, Sendable {
        case ring, ringFutexThread, grpc, inprocess
    }

    static func workerPath() -> String {
        let testBinary = ProcessEnvironment.executablePath()
        return "\(testBinary[..<testBinary.lastIndex(of: "/")!])/RingHTTPWorker"
    }

    static func makeRoute(_ route: Route, lateJoin: Bool = false, workers: Int = 1) throws -> any InvocationRoute {
        let logger = Logger(label: "HTTPHostTests")
        switch route {
        case .ring, .ringFutexThread:
            var configuration = FunctionHostConfiguration(
                segment: SegmentConfiguration(hostToWorkerCapacity: 1 << 20, workerToHostCapacity: 1 << 20, maxMessageSize: 4 << 20),
                waitBackend: route == .ringFutexThread ? .futexThread : nil)
            configuration.killMargin = .milliseconds(500)
            // The rest of the suite runs beside these tests and can starve a worker's start for
            // many seconds on two cores (seen once in a fresh-clone `make test`).
            configuration.startTimeout = .seconds(300)
            // Not "ringchannel": the channel's leak test counts that name's memfds process-wide.
            configuration.segmentName = "ringhttp-test"
            return try RingRoute(workerExecutable: workerPath(), workers: workers, timeout: .seconds(60), configuration: configuration, logger: logger)
        case .grpc:
            return GRPCRoute(workerExecutable: workerPath(), workers: workers, timeout: .seconds(60), lateJoin: lateJoin, logger: logger)
        case .inprocess:
            return InProcessRoute()
        }
    }

    /// Runs `body` against a started host on a free port, then stops it.
    static func withHost(_ route: any InvocationRoute, _ body: (HTTPHost, Int) async throws -> Void) async throws {
        var options = HTTPHost.Options()
        options.port = 0
        options.maxBodyBytes = 64 << 10
        let host = HTTPHost(route: route, options: options, logger: Logger(label: "HTTPHostTests"))
        let port = try await host.start()
        do {
            try await body(host, port)
        } catch {
            await host.stop()
            throw error
        }
        await host.stop()
    }

    /// Request `i` of connection `c`: a body no other request has.
    static func body(_ connection: Int, _ index: Int) -> [UInt8] {
        let size = (index * 37) % 2048
        return (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ index &* 7 &+ connection &* 13) } + Array("#\(connection).\(index)".utf8)
    }

    @Test(arguments: Route.allCases)
    func everyRequestGetsItsOwnBodyBack(route: Route) async throws {
        let connections = 8, perConnection = 300
        try await withWatchdog(seconds: 120, "HTTP \(route)") {
            try await Self.withHost(try Self.makeRoute(route)) { host, port in
                let tally = Tally()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for connection in 0..<connections {
                        group.addTask {
                            try await HTTPTestClient(port: port).run(
                                count: perConnection,
                                make: { ("/echo", [("content-type", "application/x-test"), ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")], Self.body(connection, $0)) },
                                check: { index, response in
                                    #expect(response.status == 200, "\(response.text)")
                                    #expect(response.body == Self.body(connection, index))
                                    #expect(response.headers["content-type"] == ["application/x-test"])
                                    #expect(response.headers["x-function"] == ["echo"])
                                    let key = try #require(response.headers["x-forwarding-id"].first)
                                    #expect(tally.keys.withLock { $0.insert(key).inserted }, "forwarding id \(key) answered twice")
                                })
                        }
                    }
                    try await group.waitForAll()
                }
                let total = connections * perConnection
                #expect(tally.keys.withLock(\.count) == total)
                #expect(host.stats[.requests] == total)
                #expect(host.stats[.replied] == total)
                for counter in HTTPHostStats.Counter.allCases where ![.requests, .replied].contains(counter) {
                    #expect(host.stats[counter] == 0, "\(counter)")
                }
            }
        }
    }

    /// The worker sees the HTTP request's id as the forwarding key and its traceparent; a request
    /// without one gets an empty traceparent.
    @Test(arguments: Route.allCases)
    func theWorkerSeesTheRequestsKeyAndTraceparent(route: Route) async throws {
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        try await withWatchdog(seconds: 120, "context \(route)") {
            try await Self.withHost(try Self.makeRoute(route)) { _, port in
                try await HTTPTestClient(port: port).run(count: 2, make: { ("/context", $0 == 0 ? [("traceparent", traceparent)] : [], []) }) { index, response in
                    #expect(response.status == 200)
                    let key = response.headers["x-forwarding-id"].first ?? "none"
                    #expect(response.text == "forwardingId=\(key)\ntraceparent=\(index == 0 ? traceparent : "")\n")
                }
            }
        }
    }

    @Test(arguments: [Route.ring, .ringFutexThread, .grpc])
    func aKilledWorkerAnswers503AndItsRestartTakesTheNextRequests(route: Route) async throws {
        try await withWatchdog(seconds: 120, "kill \(route)") {
            try await Self.withHost(try Self.makeRoute(route)) { host, port in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await HTTPTestClient(port: port).run(count: 1, make: { _ in ("/hang", [], []) }) { _, response in
                            #expect(response.status == 503)
                            #expect(response.text.hasPrefix("the worker ended with the invocation"), "\(response.text)")
                        }
                    }
                    // The worker holds the request, then dies.
                    while host.route.inFlight == 0 { await Task.yield() }
                    #expect(await host.route.killOneWorker())
                    try await group.waitForAll()
                }
                // The restarted worker answers; until it is ready, requests are refused 503 at once.
                var answered = false, refused = 0
                while !answered {
                    try await HTTPTestClient(port: port).run(count: 1, make: { _ in ("/echo", [], Array("after".utf8)) }) { _, response in
                        if response.status == 200 {
                            #expect(response.text == "after")
                            answered = true
                        } else {
                            #expect(response.status == 503, "\(response.text)")
                            refused += 1
                        }
                    }
                }
                #expect(host.stats[.workerLost] == 1)
                #expect(host.stats[.unavailable] == refused)
                #expect(host.stats[.replied] == 1)
                #expect(host.stats[.requests] == 2 + refused)
                #expect(host.stats[.mismatchedKeys] == 0 && host.stats[.missingKeys] == 0 && host.stats[.failed] == 0)
            }
        }
    }

    /// The negative control: with the key stored after the send, every request is still answered
    /// exactly once — its body, or 500 with the original message — and each 500 is counted.
    @Test func theLateJoinAnswersEveryRequestOnceAndCountsEachMissingKey() async throws {
        let connections = 8, perConnection = 200
        try await withWatchdog(seconds: 120) {
            try await Self.withHost(try Self.makeRoute(.grpc, lateJoin: true)) { host, port in
                let tally = Tally()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for connection in 0..<connections {
                        group.addTask {
                            try await HTTPTestClient(port: port).run(count: perConnection, make: { ("/echo", [], Self.body(connection, $0)) }) { index, response in
                                if response.status == 200 {
                                    #expect(response.body == Self.body(connection, index))
                                } else {
                                    #expect(response.status == 500)
                                    #expect(response.text == RouteOutcome.missingKeyMessage + "\n")
                                    tally.missing.add(1, ordering: .relaxed)
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let total = connections * perConnection
                #expect(host.stats[.requests] == total)
                #expect(host.stats[.missingKeys] == tally.missing.load(ordering: .relaxed))
                #expect(host.stats[.replied] + host.stats[.missingKeys] == total)
                #expect(host.stats[.mismatchedKeys] == 0)
            }
        }
    }

    @Test func anOversizedBodyIs413AndStatsAreServed() async throws {
        try await withWatchdog(seconds: 60) {
            try await Self.withHost(InProcessRoute()) { host, port in
                try await HTTPTestClient(port: port).run(count: 1, make: { _ in ("/echo", [], Array(repeating: 1, count: (64 << 10) + 1)) }) { _, response in
                    #expect(response.status == 413)
                    #expect(response.text == "request body exceeds 65536 bytes\n")
                }
                try await HTTPTestClient(port: port).run(count: 2, make: { _ in ("/status/201", [], []) }) { _, response in
                    #expect(response.status == 201)
                }
                #expect(host.stats[.rejected] == 1)
                #expect(host.stats.json(route: "inprocess")
                    == #"{"route":"inprocess","requests":2,"replied":2,"mismatchedKeys":0,"missingKeys":0,"workerLost":0,"unavailable":0,"timedOut":0,"failed":0,"rejected":1,"workerKills":0}"#)
            }
        }
    }
}

/// What concurrent client tasks record: forwarding ids seen, 500s for missing keys.
final class Tally: Sendable {
    let keys = RingMutex<Set<String>>([])
    let missing = Atomic<Int>(0)
}
