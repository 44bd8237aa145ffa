import RingTestSupport
import Testing

@testable import RingBenchKit

@Suite struct GRPCCommandTests {
    @Test func defaultsCoverEveryTransportAndScenario() throws {
        let command = try GRPCCommand.parse([])
        let transports: [GRPCBenchTransport] = try GRPCCommand.parse(command.transports, option: "--transports")
        let scenarios: [GRPCBenchScenario] = try GRPCCommand.parse(command.scenarios, option: "--scenarios")
        #expect(transports == GRPCBenchTransport.allCases)
        #expect(transports == [.ring, .h2Unix, .h2TCP, .inProcess])
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

    /// The in-process row (GRPCCore's own transport, the ceiling the others are read against)
    /// runs client and server in this process and completes byte-checked echoes both ways.
    @Test func inProcessCeilingRunsUnaryAndBidi() async throws {
        try await withWatchdog(seconds: 120) {
            for scenario in GRPCBenchScenario.allCases {
                let result = try await GRPCBench.run(
                    transport: .inProcess, scenario: scenario, messageSize: 64, concurrency: 2, duration: .milliseconds(200))
                #expect(result.transport == "grpc-inprocess" && result.scenario == "grpc-\(scenario.rawValue)")
                #expect(result.parameters["server"] == "same process")
                #expect(result.messagesPerSecond > 0)
                #expect((result.latencyNanoseconds != nil) == (scenario == .unary))
            }
        }
    }
}
