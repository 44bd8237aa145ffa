// PidfdPoller — the futex-thread backend's process watcher: a thread in poll(2) on an eventfd (its
// wake-up for new or dropped watches) and on every watched pidfd. A pidfd turns readable when its
// process ends; the poller reads the status without reaping (ProcessExitQuery), closes the pidfd
// and reports to the reactor thread, which runs the callback.
#if canImport(Glibc)
    import Glibc
#endif
import Synchronization
import RingCore

final class PidfdPoller {
    private let core: Core
    private let thread: ReactorThread

    /// The poller's eventfd (for leak checks).
    var wakeDescriptor: Int32 { core.wakeDescriptor }

    init(onExit: @escaping @Sendable (UInt64, ChildProcess.ExitStatus?) -> Void) throws(SystemError) {
        let descriptor = try EventDescriptor.create(nonBlocking: true)
        let core = Core(wakeDescriptor: descriptor, onExit: onExit)
        do {
            thread = try ReactorThread.start(name: "ring-pidfds") { core.run() }
        } catch {
            close(descriptor)
            throw error
        }
        self.core = core
    }

    /// Watches `pidfd` (now owned by the poller, closed when the watch ends).
    func add(id: UInt64, pidfd: Int32) { core.change { $0.added.append((id, pidfd)) } }

    /// Stops watching (and closes the pidfd).
    func remove(id: UInt64) { core.change { $0.removed.append(id) } }

    /// Ends the thread, closing every pidfd, then the eventfd.
    func stop() {
        core.change { $0.stopped = true }
        thread.join()
        close(core.wakeDescriptor)
    }

    private final class Core: Sendable {
        struct Changes {
            var added: [(UInt64, Int32)] = []
            var removed: [UInt64] = []
            var stopped = false
        }

        let wakeDescriptor: Int32
        let onExit: @Sendable (UInt64, ChildProcess.ExitStatus?) -> Void
        private let changes = RingMutex(Changes())

        init(wakeDescriptor: Int32, onExit: @escaping @Sendable (UInt64, ChildProcess.ExitStatus?) -> Void) {
            self.wakeDescriptor = wakeDescriptor
            self.onExit = onExit
        }

        func change(_ body: (inout Changes) -> Void) {
            changes.withLock { body(&$0) }
            EventDescriptor.signal(wakeDescriptor)
        }

        func run() {
            var watched: [UInt64: Int32] = [:]
            while true {
                let pending = changes.withLock { changes in
                    defer { changes = Changes(stopped: changes.stopped) }
                    return changes
                }
                for (id, pidfd) in pending.added { watched[id] = pidfd }
                for id in pending.removed {
                    if let pidfd = watched.removeValue(forKey: id) { close(pidfd) }
                }
                if pending.stopped {
                    for pidfd in watched.values { close(pidfd) }
                    return
                }
                let ids = Array(watched.keys)
                var descriptors = [pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0)]
                descriptors += ids.map { pollfd(fd: watched[$0]!, events: Int16(POLLIN), revents: 0) }
                do {
                    try Syscall.call("poll") { poll(&descriptors, nfds_t(descriptors.count), -1) }
                } catch {
                    fatalError("\(error)")  // EINVAL/ENOMEM for a handful of descriptors: nothing sane to do
                }
                if descriptors[0].revents != 0 { EventDescriptor.drain(wakeDescriptor) }
                for (index, id) in ids.enumerated() where descriptors[index + 1].revents != 0 {
                    let pidfd = watched.removeValue(forKey: id)!
                    let status = ProcessExitQuery.status(pidfd: pidfd)
                    close(pidfd)
                    onExit(id, status)
                }
            }
        }
    }
}
