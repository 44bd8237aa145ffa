// LinkListener — the listening side of the link layer, shared by FunctionHost.listen(on:) and the
// gRPC ring server: a Unix socket at a path (mode 0600), a thread of its own blocked in accept(2)
// (never a Concurrency thread), the AcceptLoop that survives EMFILE & co., and the SO_PEERCRED
// check: a peer whose uid is not allowed is closed and reported before anything is created for it.
// What an accepted peer gets (a segment, the LinkGreeting) is the protocol's business.
#if canImport(Glibc)
import Glibc
#endif
import RingCore

package final class LinkListener: Sendable {
    package let path: String
    private let descriptor: Int32
    private let thread: BlockingThread
    private let stopped = RingMutex(false)

    /// Listens at `path` (which must not exist) and accepts until `stop()`.
    /// - Parameters:
    ///   - allowedUIDs: peers whose SO_PEERCRED uid is not in the set are closed and passed to
    ///     `onReject`.
    ///   - onFailure: an accept(2) failure, the pause taken before the next accept, and how many
    ///     failures in a row (to log it; AcceptLoop).
    ///   - onAccept: an accepted peer's socket (the callee owns it) and credentials, on the
    ///     listener's thread: do the hand-over there or pass it on, but do not block for long.
    package init(
        path: String, allowedUIDs: Set<UInt32>,
        onFailure: @escaping @Sendable (_ error: SystemError, _ pauseNanoseconds: UInt64, _ consecutiveFailures: Int) -> Void,
        onReject: @escaping @Sendable (PeerCredentials) -> Void = { _ in },
        onAccept: @escaping @Sendable (Int32, PeerCredentials) -> Void
    ) throws(SystemError) {
        let descriptor = try UnixSocket.listen(path: path)
        self.path = path
        self.descriptor = descriptor
        do {
            thread = try BlockingThread {
                AcceptLoop.run(
                    listener: descriptor, report: onFailure,
                    onAccept: { client in
                        guard let credentials = try? UnixSocket.peerCredentials(client) else {
                            close(client)
                            return
                        }
                        guard allowedUIDs.contains(credentials.uid) else {
                            onReject(credentials)  // reported before the peer sees its socket close
                            close(client)
                            return
                        }
                        onAccept(client, credentials)
                    })
            }
        } catch {
            close(descriptor)
            unlink(path)
            throw error
        }
    }

    /// Stops accepting, joins the thread, closes the socket and removes its file. Idempotent; every
    /// caller returns only once the accept thread has ended (a second caller waits for the first),
    /// so no peer is handed to `onAccept` after any `stop()` returned. Not from `onAccept` itself.
    package func stop() {
        stopped.withLock { stopped in
            guard !stopped else { return }
            stopped = true
            // The accept thread never takes this lock: joining under it cannot deadlock.
            UnixSocket.shutdownListener(descriptor)
            thread.join()
            close(descriptor)
            unlink(path)
        }
    }

    deinit { stop() }
}
