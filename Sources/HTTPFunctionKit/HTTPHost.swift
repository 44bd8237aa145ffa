// HTTPHost — the HTTP function host: the front (HTTPFront) on a NIO event loop group, a route to
// the workers, and optional fault injection (a worker SIGKILLed every `killEvery`). RingHTTPHost is
// its command line; the tests run it in-process.
package import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import RingCore

package final class HTTPHost: Sendable {
    package struct Options: Sendable {
        package var host = "127.0.0.1"
        /// 0 picks a free port (`start` returns it).
        package var port = 8080
        package var eventLoopThreads = 1
        package var maxBodyBytes = 1 << 20
        /// SIGKILL one worker this often (nil: never).
        package var killEvery: Duration?

        package init() {}
    }

    package let front: HTTPFront
    let options: Options
    let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private let running = RingMutex<(channel: (any Channel)?, killer: Task<Void, Never>?)>((nil, nil))

    package var stats: HTTPHostStats { front.stats }
    package var route: any InvocationRoute { front.route }

    package init(route: any InvocationRoute, options: Options, logger: Logger) {
        front = HTTPFront(route: route, stats: HTTPHostStats(), maxBodyBytes: options.maxBodyBytes)
        self.options = options
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, options.eventLoopThreads))
    }

    /// Starts the workers, then listens; returns the bound port.
    package func start() async throws -> Int {
        try await route.start()
        let front = self.front
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPFrontHandler(front: front, eventLoop: channel.eventLoop))
                }
            }
            .bind(host: options.host, port: options.port).get()
        var killer: Task<Void, Never>?
        if let every = options.killEvery {
            killer = Task { [route, stats, logger] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: every)
                    if Task.isCancelled { break }
                    if await route.killOneWorker() {
                        stats.add(.workerKills)
                    } else {
                        logger.debug("no worker to kill")
                    }
                }
            }
        }
        running.withLock { $0 = (channel, killer) }
        return channel.localAddress?.port ?? options.port
    }

    /// Stops listening, lets the requests in flight finish (up to `drainTimeout`), stops the workers
    /// (what is still open then gets 503), and shuts the event loops down.
    package func stop(drainTimeout: Duration = .seconds(2)) async {
        let (channel, killer) = running.withLock { running in
            defer { running = (nil, nil) }
            return running
        }
        killer?.cancel()
        await killer?.value
        try? await channel?.close().get()
        let deadline = ContinuousClock.now.advanced(by: drainTimeout)
        while stats.inFlight > 0, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        await route.shutdown()
        try? await group.shutdownGracefully()
    }
}
