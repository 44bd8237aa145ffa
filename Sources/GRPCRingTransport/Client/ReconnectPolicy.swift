/// How `GRPCRingClientTransport` reconnects after the server went away (the server process exited
/// or closed the connection) — not after its own shutdown. Attempt n waits
/// `initialBackoff × multiplier^(n−1)`, at most `maxBackoff`, each ±`jitter` (a fraction), and
/// reconnection goes on until the transport is shut down or `connect()` is cancelled, as the HTTP/2
/// client's does. While it reconnects, new streams fail at once with `unavailable`.
public struct ReconnectPolicy: Sendable, Equatable {
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    public var multiplier: Double
    public var jitter: Double
    /// False: a lost server ends the transport (`connect()` returns; later streams fail with
    /// `failedPrecondition`).
    public var enabled: Bool

    /// 50 ms, doubling to 5 s, ±20 %: a local server restarts in milliseconds, so the first attempts
    /// come much sooner than HTTP/2's 1 s.
    public init(initialBackoff: Duration = .milliseconds(50), maxBackoff: Duration = .seconds(5), multiplier: Double = 2, jitter: Double = 0.2, enabled: Bool = true) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.multiplier = multiplier
        self.jitter = jitter
        self.enabled = enabled
    }

    /// Never reconnect.
    public static let never = ReconnectPolicy(enabled: false)

    /// The wait before reconnection `attempt` (1-based), or nil when reconnection is off.
    func delay(attempt: Int) -> Duration? {
        guard enabled else { return nil }
        var seconds = Double(initialBackoff.components.seconds) + Double(initialBackoff.components.attoseconds) / 1e18
        let cap = Double(maxBackoff.components.seconds) + Double(maxBackoff.components.attoseconds) / 1e18
        for _ in 1..<max(attempt, 1) where seconds < cap { seconds *= multiplier }
        seconds = min(seconds, cap) * (1 + Double.random(in: -jitter...jitter))
        return .nanoseconds(Int64(max(seconds, 0) * 1e9))
    }
}
