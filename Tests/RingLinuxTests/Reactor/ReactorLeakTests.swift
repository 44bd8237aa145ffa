// ReactorLeakTests — 100 start/shutdown cycles per backend leave none of the reactor's descriptors
// open. Other tests open and close descriptors in parallel, so a number being open again proves
// nothing: each descriptor the reactor opened is compared (kcmp KCMP_FILE) with a duplicate taken
// while it was open — after shutdown the number must be closed or refer to some other file.
#if canImport(Glibc)
    import Glibc
#endif
import CRingShim
@testable import RingLinux
import RingTestSupport
import Testing

@Suite struct ReactorLeakTests {
    @Test(arguments: ReactorBackendKind.allCases)
    func oneHundredStartShutdownCyclesCloseEveryDescriptor(kind: ReactorBackendKind) throws {
        try withWatchdog(seconds: 120) {
            // One long-lived child to watch in some cycles (a watch opens a pidfd).
            let child = try ChildProcess(executable: "/bin/sleep", arguments: ["1000"])
            defer {
                child.kill(SIGKILL)
                _ = try? child.wait()
            }
            let words = SharedWords()
            let before = ProcessResources.descriptorCount()
            var checked = 0
            for cycle in 0..<100 {
                let reactor = try ReactorFixture.start(kind)
                let wait = Outcome<WaitResult>()
                reactor.waitForChange(of: words.word(cycle % 8), from: words.load(cycle % 8) &+ 1, wait.callback)
                let pending = Outcome<WaitResult>()
                reactor.waitForChange(of: words.word(8), from: 0, pending.callback)
                reactor.schedule(at: Reactor.now() + 3_600_000_000_000) { _ in }
                let watch = Outcome<ProcessWatchResult>()
                if cycle % 10 == 0 { try reactor.watchProcess(pid: child.pid, watch.callback) }
                ReactorFixture.barrier(reactor)  // every request above is handled: its descriptors are open

                let opened = reactor.shared.openedDescriptors.withLock { $0 }
                // The futex-thread backend opens descriptors only for watches (a pidfd, the poller's eventfd).
                #expect(kind == .futexThread && cycle % 10 != 0 || !opened.isEmpty)
                let duplicates = opened.map { dup($0) }
                #expect(!duplicates.contains(-1))
                for (descriptor, duplicate) in zip(opened, duplicates) {
                    // The method itself works: while open, the number and its duplicate are one file.
                    #expect(crs_kcmp_file(getpid(), descriptor, duplicate) == 0)
                }
                reactor.shutdown()
                #expect(wait.value == .changed)
                #expect(pending.value == .shutdown)
                if cycle % 10 == 0 { #expect(watch.value == .shutdown) }

                for (descriptor, duplicate) in zip(opened, duplicates) {
                    let same = crs_kcmp_file(getpid(), descriptor, duplicate)
                    #expect(
                        same != 0, "descriptor \(descriptor) of the \(kind) reactor is still open after shutdown (cycle \(cycle))"
                    )
                    close(duplicate)
                    checked += 1
                }
            }
            print(
                "\(kind): checked \(checked) reactor descriptors; process descriptors \(before) before, \(ProcessResources.descriptorCount()) after (other tests run in parallel)"
            )
        }
    }
}
