import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Bounds a test that could hang: if `cancel()` is not called within `seconds`, the whole test
/// process aborts with a message naming the test. Tests never assert durations; this only turns a
/// hang into a failure.
public final class Watchdog: @unchecked Sendable {
    private let item: DispatchWorkItem

    public init(seconds: Int, _ name: String) {
        let item = DispatchWorkItem {
            let message = "WATCHDOG: '\(name)' did not finish within \(seconds) s — aborting\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            abort()
        }
        self.item = item
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(seconds), execute: item)
    }

    public func cancel() { item.cancel() }

    deinit { item.cancel() }
}

/// Runs `body` under a watchdog.
public func withWatchdog<T>(seconds: Int, _ name: String = #function, _ body: () throws -> T) rethrows -> T {
    let dog = Watchdog(seconds: seconds, name)
    defer { dog.cancel() }
    return try body()
}

/// Runs `body` under a watchdog (async).
public func withWatchdog<T>(seconds: Int, _ name: String = #function, _ body: () async throws -> T) async rethrows -> T {
    let dog = Watchdog(seconds: seconds, name)
    defer { dog.cancel() }
    return try await body()
}
