import Testing

@testable import RingBenchKit

/// `ringbench invoke`'s mixed scenario (`--huge-fraction`): parsed into "1 in N invocations carries
/// the huge size", and refused where it cannot be measured.
@Suite struct InvokeCommandTests {
    @Test func anotherWorkerExecutableIsTakenAsGiven() throws {
        #expect(try InvokeCommand.parse(["--worker-path", "/bin/true"]).workerPath == "/bin/true")
        let compare = try CompareCommand.parse(["--worker-path", "/bin/true"])
        #expect(compare.settings().workerPath == "/bin/true")
        #expect(try CompareCommand.parse([]).settings().workerPath == nil)
    }

    @Test func completionCallersParse() throws {
        #expect(try InvokeCommand.parse(["--callers", "completion"]).callers == .completion)
        #expect(try InvokeCommand.parse([]).callers == .hostExecutor)
    }

    @Test func hugeFractionBecomesOneInN() throws {
        let command = try InvokeCommand.parse(["--huge-fraction", "0.01", "--huge-size", "4M"])
        #expect(command.hugeMix?.every == 100)
        #expect(command.hugeMix?.size == 4 << 20)
        #expect(try InvokeCommand.parse([]).hugeMix == nil)
    }

    @Test(arguments: [
        ["--huge-fraction", "1"], ["--huge-fraction", "-0.5"], ["--huge-size", "0"], ["--huge-size", "65M"],
        ["--huge-fraction", "0.01", "--batch", "2", "--concurrency", "2"],
        ["--worker-path", "/nonexistent/worker"],
        ["--callers", "completion", "--batch", "2", "--concurrency", "2"], ["--callers", "completion", "--huge-fraction", "0.01"],
        ["--callers", "tasks"],
    ])
    func impossibleMixesAreUsageErrors(arguments: [String]) {
        #expect(throws: (any Error).self) { try InvokeCommand.parse(arguments) }
    }
}
