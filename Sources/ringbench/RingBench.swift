import ArgumentParser
import RingBenchKit
import RingStress

/// `ringbench`: measures RingTransport side by side with the channels a host would otherwise use.
struct RingBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ringbench",
        abstract: "Measure RingTransport against Unix sockets and other host↔worker channels.",
        subcommands: [
            CompareCommand.self, ThroughputCommand.self, CostCommand.self, LatencyCommand.self, InvokeCommand.self, GRPCCommand.self, HTTPCommand.self, StressCommand.self, ConformCommand.self, PeerCommand.self,
            GRPCServerCommand.self, ConformHostCommand.self,
        ],
        defaultSubcommand: CompareCommand.self)

    init() {}
}
