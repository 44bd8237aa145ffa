#if canImport(Glibc)
import Glibc
#endif
import RingLinux

/// A gRPC server in another process (GRPCRingFixture, built beside the test bundle), for tests that
/// kill the server. `start` returns once the fixture printed "ready" (it is listening).
struct FixtureServer {
    let process: ChildProcess
    let socketPath: String

    static func start(_ transport: TransportUnderTest) throws -> FixtureServer {
        let testBinary = ProcessEnvironment.executablePath()
        let directory = testBinary[..<testBinary.lastIndex(of: "/")!]
        let path = TransportUnderTest.socketPath()
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SystemError(call: "pipe", errno: errno) }
        defer { close(fds[0]) }
        let process: ChildProcess
        do {
            process = try ChildProcess(
                executable: "\(directory)/GRPCRingFixture", arguments: [transport.rawValue, path], inherit: [1: fds[1]])
        } catch {
            close(fds[1])
            throw error
        }
        close(fds[1])
        // Blocks until the fixture is listening (the test's watchdog bounds it).
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(fds[0], &byte, 1) == 1, byte != UInt8(ascii: "\n") { line.append(byte) }
        guard String(decoding: line, as: UTF8.self) == "ready" else {
            process.kill(SIGKILL)
            _ = try? process.wait()
            throw SystemError(call: "fixture said \(String(decoding: line, as: UTF8.self))", errno: EIO)
        }
        return FixtureServer(process: process, socketPath: path)
    }

    func kill() throws {
        process.kill(SIGKILL)
        _ = try process.wait()
        unlink(socketPath)
    }
}
