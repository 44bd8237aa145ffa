// ProcessExitQuery — how a watched process ended, read without reaping it.
//
// `waitid(P_PIDFD, …, WEXITED | WNOWAIT | WNOHANG)` reports a child's exit status and leaves it a
// zombie, so `ChildProcess.wait()` (waitpid) still reaps it and gets the same status. For a
// process that is not our child (ECHILD), or one already reaped, there is no status to read.
#if canImport(Glibc)
    import Glibc
#endif

enum ProcessExitQuery {
    /// The exit status of the (ended) child behind `pidfd`, or nil when it is not ours to read.
    static func status(pidfd: Int32) -> ChildProcess.ExitStatus? {
        var info = siginfo_t()
        do {
            try Syscall.call("waitid(P_PIDFD)") { waitid(P_PIDFD, id_t(pidfd), &info, WEXITED | WNOWAIT | WNOHANG) }
        } catch {
            return nil  // ECHILD: not our child, or already reaped
        }
        let child = info._sifields._sigchld
        guard child.si_pid != 0 else { return nil }  // WNOHANG: has not ended after all
        switch Int(info.si_code) {
        case Int(CLD_EXITED): return .exited(child.si_status)
        case Int(CLD_KILLED), Int(CLD_DUMPED): return .signaled(child.si_status)
        default: return nil
        }
    }
}
