import GRPCCore
import GRPCRingTransport
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
    /// serves the benchmark service in this process: unary and bidirectional echoes come back
    /// byte-exact, and `GRPCBench.run` labels its rows. No rate is asserted: the tests of other
    /// suites share this process's thread pool, so how many RPCs fit in a window is not fixed.
    @Test func inProcessCeilingServesTheBenchmarkService() async throws {
        try await withWatchdog(seconds: 300) {
            let payload = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let echoed = try await GRPCBenchServer.withInProcess { client in
                let unary = try await client.unary(
                    request: ClientRequest(message: payload), descriptor: GRPCBenchMethods.unary,
                    serializer: RawBytesSerializer(), deserializer: RawBytesDeserializer(), options: .defaults) { try $0.message }
                let bidi = try await client.bidirectionalStreaming(
                    request: StreamingClientRequest<[UInt8]> { writer in
                        for index in 0..<100 { try await writer.write([UInt8(index)] + payload) }
                    },
                    descriptor: GRPCBenchMethods.stream, serializer: RawBytesSerializer(), deserializer: RawBytesDeserializer(),
                    options: .defaults
                ) { response in
                    var messages: [[UInt8]] = []
                    for try await message in response.messages { messages.append(message) }
                    return messages
                }
                return (unary, bidi)
            }
            #expect(echoed.0 == payload)
            #expect(echoed.1 == (0..<100).map { [UInt8($0)] + payload })
            for scenario in GRPCBenchScenario.allCases {
                let result = try await GRPCBench.run(
                    transport: .inProcess, scenario: scenario, messageSize: 64, concurrency: 2, duration: .milliseconds(100))
                #expect(result.transport == "grpc-inprocess" && result.scenario == "grpc-\(scenario.rawValue)")
                #expect(result.parameters["server"] == "same process")
                #expect((result.latencyNanoseconds != nil) == (scenario == .unary))
            }
        }
    }
}
