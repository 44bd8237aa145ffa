import RingLinux
import Synchronization
import RingCore

/// The one reactor every `GRPCRingClientTransport` connection of this process runs on: started
/// with the first connection, stopped when the last one ends, so a process with many client
/// transports has one reactor thread, not one per connection. (A server transport keeps its own.)
enum SharedClientReactor {
    private static let state = RingMutex<(reactor: Reactor?, users: Int)>((nil, 0))

    /// The shared reactor, started if no connection holds it; pair with `release`.
    static func acquire() throws -> Reactor {
        try state.withLock { state throws -> Reactor in
            if let reactor = state.reactor {
                state.users += 1
                return reactor
            }
            let reactor = try RingLink.makeReactor()
            state = (reactor, 1)
            return reactor
        }
    }

    /// One connection is done with it; the last one stops it.
    static func release(_ reactor: Reactor) {
        let last = state.withLock { state -> Bool in
            guard state.reactor === reactor else { return false }
            state.users -= 1
            guard state.users == 0 else { return false }
            state.reactor = nil
            return true
        }
        if last { reactor.shutdown() }
    }

    /// Connections holding the shared reactor now (tests).
    static var users: Int { state.withLock(\.users) }
}
