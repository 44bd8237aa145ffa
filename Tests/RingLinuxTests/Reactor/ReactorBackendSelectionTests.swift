// ReactorBackendSelectionTests — the pure selection function (probe results + RINGTRANSPORT_BACKEND
// value → choice), tested without touching the process environment, plus the live probe here.
import RingLinux
import Testing

@Suite struct ReactorBackendSelectionTests {
    static let everything = BackendProbe(
        ioUring: .available("io_uring works"), futexOpcodes: .available("FUTEX_WAIT/WAKE ok"),
        futexWaitv: .available("futex_waitv works"))
    static let noFutexOpcodes = BackendProbe(
        ioUring: .available("io_uring works"), futexOpcodes: .unavailable("kernel lacks ops 51/52"),
        futexWaitv: .available("futex_waitv works"))
    static let noIOUring = BackendProbe(
        ioUring: .unavailable("io_uring_setup failed: EPERM"), futexOpcodes: .unavailable("io_uring_setup failed: EPERM"),
        futexWaitv: .available("futex_waitv works"))

    @Test func parsesEveryBackendNameAndAuto() throws {
        #expect(try WaitBackend.parse("iouring-futex") == .ioUringFutex)
        #expect(try WaitBackend.parse("iouring-eventfd") == .ioUringEventfd)
        #expect(try WaitBackend.parse("futex-thread") == .futexThread)
        #expect(try WaitBackend.parse("  Futex-Thread\n") == .futexThread)
        #expect(try WaitBackend.parse("auto") == nil)
        #expect(try WaitBackend.parse("") == nil)
        #expect(throws: ReactorError.unknownBackend("epoll")) { try WaitBackend.parse("epoll") }
    }

    @Test func automaticSelectionPrefersFutexOpcodesThenEventfdThenTheFutexThread() throws {
        let best = try WaitBackend.select(override: nil, probe: Self.everything)
        #expect(best.kind == .ioUringFutex)
        #expect(best.reason.contains("FUTEX_WAIT/WAKE ok"))

        let eventfd = try WaitBackend.select(override: nil, probe: Self.noFutexOpcodes)
        #expect(eventfd.kind == .ioUringEventfd)
        #expect(eventfd.reason.contains("kernel lacks ops 51/52"))

        let thread = try WaitBackend.select(override: "auto", probe: Self.noIOUring)
        #expect(thread.kind == .futexThread)
        #expect(thread.reason.contains("EPERM"))
    }

    @Test(arguments: ReactorBackendKind.allCases)
    func theEnvironmentOverrideForcesEachBackend(kind: ReactorBackendKind) throws {
        let choice = try WaitBackend.select(override: kind.rawValue, probe: Self.everything)
        #expect(choice.kind == kind)
        #expect(choice.reason.contains("forced by RINGTRANSPORT_BACKEND=\(kind.rawValue)"))
    }

    @Test func forcingAnUnavailableBackendIsAnError() throws {
        #expect(throws: ReactorError.backendUnavailable(.ioUringFutex, reason: "kernel lacks ops 51/52")) {
            try WaitBackend.select(override: "iouring-futex", probe: Self.noFutexOpcodes)
        }
        #expect(throws: ReactorError.backendUnavailable(.ioUringEventfd, reason: "io_uring_setup failed: EPERM")) {
            try WaitBackend.select(override: "iouring-eventfd", probe: Self.noIOUring)
        }
        #expect(throws: ReactorError.unknownBackend("uring")) {
            try WaitBackend.select(override: "uring", probe: Self.everything)
        }
    }

    @Test func theFutexThreadRunsEvenWithoutFutexWaitv() throws {
        let probe = BackendProbe(
            ioUring: .unavailable("blocked"), futexOpcodes: .unavailable("blocked"), futexWaitv: .unavailable("ENOSYS"))
        let choice = try WaitBackend.select(override: nil, probe: probe)
        #expect(choice.kind == .futexThread)
        #expect(choice.reason.contains("every 1 ms"))
    }

    @Test func theLiveProbeAndSelectionOnThisMachine() throws {
        let probe = WaitBackend.probe
        print("probe: io_uring: \(probe.ioUring); futex ops: \(probe.futexOpcodes); futex_waitv: \(probe.futexWaitv)")
        // Whatever the machine, the futex thread is always possible.
        #expect(probe.availability(of: .futexThread).isAvailable)
        switch WaitBackend.selection {
        case .success(let choice): print("selected: \(choice)")
        case .failure(let error): print("selection failed (forced backend?): \(error)")
        }
    }
}
