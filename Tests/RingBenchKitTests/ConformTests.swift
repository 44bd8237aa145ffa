// The conformance kit judges: the example worker passes the cases, and a worker broken in a known
// way (the example worker's knobs) fails exactly the cases that check what it breaks, with a
// message that says what was wrong.
import RingLinux
import RingTestSupport
import Testing

@testable import RingBenchKit

@Suite(.serialized) struct ConformTests {
    private func session(_ environment: [String: String] = [:]) -> ConformSession {
        ConformSession(workerPath: builtExecutablePath("RingExampleWorker"), ringbenchPath: builtExecutablePath("ringbench"), environment: environment)
    }

    private func outcome(_ name: String, _ session: ConformSession) async -> Result<String, ConformFailure> {
        let item = ConformCommand.cases.first { $0.name == name }!
        do { return .success(try await item.check(session)) } catch let failure as ConformFailure {
            return .failure(failure)
        } catch {
            return .failure(ConformFailure("\(error)"))
        }
    }

    @Test func theExampleWorkerPassesEveryCase() async throws {
        await withWatchdog(seconds: 300) {
            for item in ConformCommand.cases {
                let result = await outcome(item.name, session())
                #expect((try? result.get()) != nil, "\(item.name): \(result)")
            }
        }
    }

    @Test func aWorkerWithoutHangOrLogFailsTheCasesThatNeedThem() async throws {
        await withWatchdog(seconds: 120) {
            let broken = session(["RING_EXAMPLE_WITHOUT": "hang,log"])
            guard case .failure(let logs) = await outcome("logs", broken) else { Issue.record("logs passed"); return }
            #expect(logs.description == "log answered failure: unknown function log")
            guard case .failure(let cancel) = await outcome("cancel-running", broken) else { Issue.record("cancel-running passed"); return }
            #expect(cancel.description == "the worker never reported 1 running: no outcome within 5.0 s")
            #expect((try? await outcome("echo", broken).get()) != nil)
        }
    }

    @Test func aWorkerWithAnUndecodableHelloFailsTheHandshake() async throws {
        await withWatchdog(seconds: 120) {
            guard case .failure(let failure) = await outcome("handshake", session(["RING_EXAMPLE_MALFORMED_HELLO": "1"])) else {
                Issue.record("handshake passed")
                return
            }
            #expect(failure.description.contains("rejected at handshake: malformed handshake"))
        }
    }
}
