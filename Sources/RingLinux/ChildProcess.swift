#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import RingCore

/// A child process started with `posix_spawn`, optionally inheriting chosen descriptors at chosen
/// numbers (everything else is close-on-exec in RingTransport).
public final class ChildProcess: Sendable {
    public let pid: Int32
    /// How the child ended, once reaped; guarded so `kill` and `wait` may be called from any thread.
    private let reaped = RingMutex<ExitStatus?>(nil)
    /// Serialises `wait()` (held while blocked in waitpid; `kill` does not take it).
    private let reaping = RingMutex<Void>(())

    /// How a child ended.
    public enum ExitStatus: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signaled(let signal): "killed by signal \(signal)"
            }
        }
    }

    /// Spawns `executable` with `arguments` (argv[1...]) and `environment` added to this process's.
    /// `inherit` maps a descriptor number in the child to a descriptor of this process.
    public init(
        executable: String, arguments: [String] = [], environment: [String: String] = [:],
        inherit: [Int32: Int32] = [:]
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Each source is first duplicated to a private number above every target, so one mapping's
        // dup2 can never overwrite another mapping's source, whatever the order. dup2 onto the target
        // clears close-on-exec in the child; the temporaries are close-on-exec and closed below.
        let floor = Int32(max(64, (inherit.keys.max() ?? 0) + 1))
        var temporaries: [Int32] = []
        defer { temporaries.forEach { close($0) } }
        for (childFD, parentFD) in inherit {
            let temporary = try Syscall.call("fcntl(F_DUPFD_CLOEXEC)") { fcntl(parentFD, F_DUPFD_CLOEXEC, floor) }
            temporaries.append(temporary)
            posix_spawn_file_actions_adddup2(&actions, temporary, childFD)
        }
        var env = ProcessEnvironment.current()
        for (key, value) in environment { env[key] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: Int32 = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else { throw SystemError(call: "posix_spawn(\(executable))", errno: result) }
        self.pid = pid
    }

    /// Sends `signal` to the child (no-op once reaped).
    public func kill(_ signal: Int32) {
        // Under the lock: a reaped pid may be reused by an unrelated process.
        reaped.withLock { reaped in
            guard reaped == nil else { return }
            _ = Glibc.kill(pid, signal)
        }
    }

    /// Waits for the child to end and returns how it ended (idempotent).
    @discardableResult
    public func wait() throws -> ExitStatus {
        // One reaper at a time (a second caller blocks until the first has stored the status).
        try reaping.withLock { _ throws -> ExitStatus in
            if let known = reaped.withLock({ $0 }) { return known }
            var status: Int32 = 0
            try Syscall.call("waitpid") { waitpid(pid, &status, 0) }
            let exit: ExitStatus = (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
            reaped.withLock { $0 = exit }
            return exit
        }
    }

    /// Whether the child has been reaped.
    public var hasExited: Bool { reaped.withLock { $0 != nil } }

    deinit {
        if reaped.withLock({ $0 }) == nil {
            _ = Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }
}

/// This process's environment as a dictionary.
public enum ProcessEnvironment {
    public static func current() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let string = String(cString: entry)
            if let equals = string.firstIndex(of: "=") {
                result[String(string[..<equals])] = String(string[string.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }

    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The absolute path of the running executable.
    public static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        precondition(count > 0, "cannot read /proc/self/exe")
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
