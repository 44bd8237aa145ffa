import Glibc
import RingLinux
import RingTestSupport
import Testing

/// `ChildProcess.spawnAnnouncing`: the first line a child writes is returned whole; a child that
/// says something else, or exits without a word, is a typed error quoting what it said.
@Suite struct ChildProcessAnnounceTests {
    @Test func returnsTheFirstLine() throws {
        try withWatchdog(seconds: 60) {
            let (process, line) = try ChildProcess.spawnAnnouncing(
                executable: "/bin/sh", arguments: ["-c", "printf 'ready /tmp/x.sock\\nsecond\\n'"], expectedPrefix: "ready ")
            #expect(line == "ready /tmp/x.sock")
            #expect(try process.wait() == .exited(0))
        }
    }

    @Test(arguments: [["-c", "echo not-ready; exec sleep 60"], ["-c", "exit 3"]])
    func anotherAnswerOrNoneIsATypedError(arguments: [String]) throws {
        try withWatchdog(seconds: 60) {
            do {
                _ = try ChildProcess.spawnAnnouncing(executable: "/bin/sh", arguments: arguments, expectedPrefix: "ready")
                Issue.record("a child that did not announce was accepted")
            } catch let error as SystemError {
                #expect(error.errno == EIO)
                #expect("\(error)".contains("instead of 'ready…'"))
            }
        }
    }
}
