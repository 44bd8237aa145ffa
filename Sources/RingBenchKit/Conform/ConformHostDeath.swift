// ConformHostDeath — the host of the `host-death` case: `ringbench conform-host` (hidden) starts the
// worker under test, writes its pid to a file and SIGKILLs itself; `ringbench conform` then waits for
// the orphaned worker to exit (a pidfd on its reactor: no polling, no need to be its parent).
package import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Logging
import RingChannel
import RingLinux

/// `ringbench conform-host`: a host that dies once its worker is ready (for `conform`'s host-death case).
package struct ConformHostCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "conform-host", abstract: "A host that starts one worker, writes its pid, and kills itself (ringbench conform).",
        shouldDisplay: false)

    @Option var workerPath: String
    @Option var pidFile: String

    package init() {}

    package func run() async throws {
        var logger = Logger(label: "conform-host")
        logger.logLevel = .critical
        var configuration = FunctionHostConfiguration()
        configuration.segmentName = "ringconform"
        let host = try FunctionHost(configuration: configuration, logger: logger)
        let id = try await host.addWorker(WorkerLaunch(executable: workerPath, name: "orphan"))
        guard let pid = host.workers.first(where: { $0.id == id })?.pid else { throw ExitCode(2) }
        let line = "\(pid)\n"
        let file = open(pidFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard file >= 0 else { throw ExitCode(2) }
        _ = line.withCString { write(file, $0, strlen($0)) }
        close(file)
        kill(getpid(), SIGKILL)
    }
}

enum ConformHostDeath {
    /// Waits until process `pid` has ended ("exited", with the status when it is our child).
    static func exit(of pid: Int32, reactor: Reactor) async throws -> String {
        let result: ProcessWatchResult
        do {
            result = try await withCheckedThrowingContinuation { continuation in
                do {
                    try reactor.watchProcess(pid: pid) { continuation.resume(returning: $0) }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        } catch let error as SystemError where error.errno == ESRCH {
            return "had already exited"
        }
        switch result {
        case .exited(let status): return status.map { "exited (\($0))" } ?? "exited"
        case .cancelled, .shutdown: throw ConformFailure("the watch on pid \(pid) ended without an exit")
        case .failed(let error): throw ConformFailure("cannot watch pid \(pid): \(error)")
        }
    }

    /// The pid in `path` (a decimal line), or nil.
    static func readPID(_ path: String) -> Int32? {
        let file = open(path, O_RDONLY | O_CLOEXEC)
        guard file >= 0 else { return nil }
        defer { close(file) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = read(file, &buffer, buffer.count)
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[..<count], as: UTF8.self).split(separator: "\n").first ?? "")
    }
}
