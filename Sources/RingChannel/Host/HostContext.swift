// HostContext — what every worker connection of one host shares: its reactor (one io_uring loop for
// all workers' waits, deadlines and process watches), configuration, logger and metrics.
import Logging
import RingLinux

final class HostContext: Sendable {
    let reactor: Reactor
    let configuration: FunctionHostConfiguration
    let logger: Logger
    let metrics: ChannelMetrics

    init(reactor: Reactor, configuration: FunctionHostConfiguration, logger: Logger, metrics: ChannelMetrics) {
        self.reactor = reactor
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
    }
}
