#if canImport(Glibc)
import Glibc
#endif

extension ChildProcess {
    /// Spawns a server-like child whose standard output is a pipe and blocks until it writes its
    /// first line (e.g. "ready <address>", printed once it listens). Returns the child and that
    /// line without the newline. If the line does not start with `expectedPrefix` — the child
    /// failed, or exited before announcing — the child is killed and reaped, and a `SystemError`
    /// quoting what it said is thrown. Callers bound the wait (a watchdog, or a child that
    /// always announces or exits).
    public static func spawnAnnouncing(
        executable: String, arguments: [String], expectedPrefix: String
    ) throws -> (process: ChildProcess, line: String) {
        var fds: [Int32] = [0, 0]
        try Syscall.call("pipe") { pipe(&fds) }
        // Close-on-exec like every descriptor here, so no other child inherits the pipe.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer { close(fds[0]) }
        let process: ChildProcess
        do {
            process = try ChildProcess(executable: executable, arguments: arguments, inherit: [1: fds[1]])
        } catch {
            close(fds[1])
            throw error
        }
        close(fds[1])
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < 4096 {
            let n = read(fds[0], &byte, 1)
            if n == 1 {
                if byte == UInt8(ascii: "\n") { break }
                line.append(byte)
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix(expectedPrefix) else {
            process.kill(SIGKILL)
            _ = try? process.wait()
            throw SystemError(call: "\(executable) announced '\(text)' instead of '\(expectedPrefix)…'", errno: EIO)
        }
        return (process, text)
    }
}
