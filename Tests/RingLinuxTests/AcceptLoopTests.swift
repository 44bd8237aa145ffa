#if canImport(Glibc)
    import Glibc
#endif
import RingLinux
import Testing

/// The listeners' accept loop keeps accepting through resource shortages (pausing 1 ms, doubling
/// to 1 s, reporting each failure), retries other failures after the longest pause, and ends only
/// when the listener is shut down. `accept` and `pause` are injected: no descriptor is exhausted
/// and no time passes.
@Suite struct AcceptLoopTests {
    @Test func transientFailuresPauseWithGrowingBackoffAndAcceptingGoesOn() {
        // EMFILE ×3, a client (fd 41), ENFILE, ENOMEM, a client (fd 42), ENOTSOCK, shut down.
        var script: [Result<Int32?, SystemError>] = [
            .failure(SystemError(call: "accept4", errno: EMFILE)), .failure(SystemError(call: "accept4", errno: EMFILE)),
            .failure(SystemError(call: "accept4", errno: EMFILE)), .success(41),
            .failure(SystemError(call: "accept4", errno: ENFILE)), .failure(SystemError(call: "accept4", errno: ENOMEM)),
            .success(42), .failure(SystemError(call: "accept4", errno: ENOTSOCK)), .success(nil),
        ]
        var accepted: [Int32] = []
        var pauses: [UInt64] = []
        var reports: [(errno: Int32, pause: UInt64, failures: Int)] = []
        AcceptLoop.run(
            listener: 7,
            accept: { listener throws(SystemError) in
                #expect(listener == 7)
                return try script.removeFirst().get()
            },
            pause: { pauses.append($0) },
            report: { error, pause, failures in reports.append((error.errno, pause, failures)) },
            onAccept: { accepted.append($0) })
        #expect(script.isEmpty)
        #expect(accepted == [41, 42])
        let ms: UInt64 = 1_000_000
        #expect(pauses == [1 * ms, 2 * ms, 4 * ms, 1 * ms, 2 * ms, 1_000 * ms])
        #expect(reports.map(\.errno) == [EMFILE, EMFILE, EMFILE, ENFILE, ENOMEM, ENOTSOCK])
        #expect(reports.map(\.failures) == [1, 2, 3, 1, 2, 1])
        #expect(reports.map(\.pause) == pauses)
    }

    @Test func theBackoffStopsGrowingAtOneSecond() {
        var backoff = AcceptBackoff()
        let pauses = (0..<15).map { _ in backoff.pause(after: SystemError(call: "accept4", errno: EMFILE)) }
        #expect(pauses.first == AcceptBackoff.initialNanoseconds)
        #expect(pauses.last == AcceptBackoff.maximumNanoseconds)
        #expect(pauses == pauses.sorted())
        #expect(AcceptBackoff.isTransient(SystemError(call: "accept4", errno: ENOBUFS)))
        #expect(!AcceptBackoff.isTransient(SystemError(call: "accept4", errno: EPERM)))
    }

    @Test func aRealListenerShutDownEndsTheLoop() throws {
        let path = "/tmp/ring-accept-loop-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let listener = try UnixSocket.listen(path: path)
        defer {
            close(listener)
            unlink(path)
        }
        UnixSocket.shutdownListener(listener)
        var accepted = 0
        AcceptLoop.run(listener: listener, report: { _, _, _ in Issue.record("no failure expected") }, onAccept: { _ in accepted += 1 })
        #expect(accepted == 0)
    }
}
