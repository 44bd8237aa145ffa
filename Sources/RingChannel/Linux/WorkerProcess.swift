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
        // ChildProcess moves every source out of the way before its dup2s, so a source that sits on
        // another's target number is safe.
        var inherit: [Int32: Int32] = [:]
        for (index, descriptor) in descriptors.enumerated() { inherit[Int32(3 + index)] = descriptor }
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
