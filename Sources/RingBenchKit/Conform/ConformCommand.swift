// ConformCommand — `ringbench conform`: drives any worker executable through every protocol case
// (ConformCases+*.swift) and prints a pass/fail table; exits 1 when a case fails.
package import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

package struct ConformCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "conform",
        abstract: "Check that a worker (any language) follows the channel protocol: handshake, invocations, fragments, cancel, deadline, logs, status, terminate, host death.",
        discussion: """
            Each case starts a fresh host that spawns the worker. The worker must answer the functions of \
            Docs/Protocol.md §11 that the cases call: echo, fail, slow, hang, log. Exits with status 1 if a \
            case fails. See Docs/WorkerABI.md.
            """)

    @Option(name: .customLong("worker-path"), help: "Worker executable to check (repeat to check several).")
    var workerPaths: [String] = []
    @Option(help: "Only the cases whose names contain one of these (comma-separated).") var only: String?
    @Option(help: "Write the results as JSON to this path.") var json: String?

    package init() {}

    static var cases: [ConformCase] { ConformCase.handshake + ConformCase.invocations + ConformCase.lifecycle }

    package func validate() throws {
        guard !workerPaths.isEmpty else { throw ValidationError("give at least one --worker-path") }
        for path in workerPaths where access(path, X_OK) != 0 { throw ValidationError("--worker-path \(path) is not an executable file") }
    }

    package func run() async throws {
        let filters = only?.split(separator: ",").map(String.init) ?? []
        let selected = Self.cases.filter { c in filters.isEmpty || filters.contains { c.name.contains($0) } }
        guard !selected.isEmpty else { throw ValidationError("--only \(only ?? ""): no case matches (\(Self.cases.map(\.name).joined(separator: ", ")))") }
        let ringbench = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var rows: [ConformResult] = []
        for path in workerPaths {
            print("ringbench conform — \(path)")
            let session = ConformSession(workerPath: path, ringbenchPath: ringbench)
            for item in selected {
                let started = ContinuousClock.now
                let row: ConformResult
                do {
                    let detail = try await item.check(session)
                    row = ConformResult(worker: path, name: item.name, requirement: item.requirement, passed: true, detail: detail, seconds: started.duration(to: .now).seconds)
                } catch {
                    row = ConformResult(worker: path, name: item.name, requirement: item.requirement, passed: false, detail: "\(error)", seconds: started.duration(to: .now).seconds)
                }
                print(row.line)
                rows.append(row)
            }
        }
        let failed = rows.filter { !$0.passed }
        print(failed.isEmpty
            ? "PASS: \(rows.count) cases on \(workerPaths.count) worker(s)"
            : "FAIL: \(failed.count) of \(rows.count) cases (\(failed.map { "\($0.name) on \($0.worker)" }.joined(separator: "; ")))")
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(rows).write(to: URL(fileURLWithPath: json))
            print("wrote \(json)")
        }
        if !failed.isEmpty { throw ExitCode(1) }
    }
}

struct ConformResult: Codable, Sendable {
    let worker: String
    let name: String
    let requirement: String
    let passed: Bool
    let detail: String
    let seconds: Double

    var line: String {
        let padded = name.padding(toLength: 20, withPad: " ", startingAt: 0)
        return "  \(passed ? "pass" : "FAIL")  \(padded) \(String(format: "%6.2f s", seconds))  \(detail)"
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
