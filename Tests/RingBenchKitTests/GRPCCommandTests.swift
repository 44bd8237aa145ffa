import Testing

@testable import RingBenchKit

@Suite struct GRPCCommandTests {
    @Test func defaultsCoverEveryTransportAndScenario() throws {
        let command = try GRPCCommand.parse([])
        let transports: [GRPCBenchTransport] = try GRPCCommand.parse(command.transports, option: "--transports")
        let scenarios: [GRPCBenchScenario] = try GRPCCommand.parse(command.scenarios, option: "--scenarios")
        #expect(transports == [.ring, .h2Unix, .h2TCP])
        #expect(scenarios == [.unary, .bidi])
        #expect(try InvokeCommand.list(command.sizes, option: "--sizes") == [64, 64 << 10])
        #expect(try InvokeCommand.list(command.concurrency, option: "--concurrency") == [1, 64])
    }

    @Test(arguments: [
        ["--transports", "smoke-signals"], ["--scenarios", "unary,teleport"], ["--sizes", "17M"],
        ["--concurrency", "0"], ["--seconds", "0"],
    ])
    func badArgumentsAreUsageErrors(arguments: [String]) {
        #expect(throws: (any Error).self) { try GRPCCommand.parse(arguments) }
    }
}
