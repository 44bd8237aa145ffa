// WorkerProcess — a worker's process as the host sees it: a spawned child (posix_spawn through
// RingLinux.ChildProcess, with the segment and doorbell descriptors inherited at fixed numbers) or a
// process that attached over the Unix socket (not our child: no exit status, never reaped by us).
// Signals are sent only while the process is known not to be reaped, so a recycled pid is never hit.
#if canImport(Glibc)
import Glibc
#endif
import RingLinux
import Synchronization
import RingCore

final class WorkerProcess: Sendable {
    let pid: Int32
    private let child: RingMutex<ChildProcess?>
    private let reaped = RingMutex<Bool>(false)

    /// A process we did not start (socket attach).
    init(attachedPID pid: Int32) {
        self.pid = pid
        child = RingMutex(nil)
    }

    /// Spawns `executable` with `descriptors` inherited as 3, 4, … in order.
    init(executable: String, arguments: [String], environment: [String: String], descriptors: [Int32]) throws(ChannelError) {
        // ChildProcess applies its dup2s in dictionary order: a source that sits on another
        // source's target number would be clobbered first. Move such sources out of the way.
        let targets = (0..<descriptors.count).map { Int32(3 + $0) }
        var sources = descriptors
        var temporaries: [Int32] = []
        defer { temporaries.forEach { close($0) } }
        for index in sources.indices where targets.contains(sources[index]) && sources[index] != targets[index] {
            let moved = fcntl(sources[index], F_DUPFD_CLOEXEC, Int32(3 + descriptors.count))
            guard moved >= 0 else { throw .spawnFailed(executable: executable, error: SystemError(call: "fcntl(F_DUPFD_CLOEXEC)", errno: errno)) }
            temporaries.append(moved)
            sources[index] = moved
        }
        var inherit: [Int32: Int32] = [:]
        for (target, source) in zip(targets, sources) { inherit[target] = source }
        let process: ChildProcess
        do {
            process = try ChildProcess(executable: executable, arguments: arguments, environment: environment, inherit: inherit)
        } catch let error as SystemError {
            throw .spawnFailed(executable: executable, error: error)
        } catch {
            throw .spawnFailed(executable: executable, error: SystemError(call: "posix_spawn(\(executable))", errno: EINVAL))
        }
        pid = process.pid
        child = RingMutex(process)
    }

    var isChild: Bool { child.withLock { $0 != nil } }

    /// Sends `signal` unless the process was already reaped.
    func kill(_ signal: Int32) {
        reaped.withLock { reaped in
            guard !reaped else { return }
            _ = Glibc.kill(pid, signal)
        }
    }

    /// Reaps an ended child (returns at once: call it after the exit was reported). No-op for a
    /// process that is not our child.
    func reap() {
        let process = child.withLock { $0 }
        guard let process else { return }
        reaped.withLock { reaped in
            guard !reaped else { return }
            _ = try? process.wait()
            reaped = true
        }
    }
}
