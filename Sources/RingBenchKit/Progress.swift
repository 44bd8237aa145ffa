#if canImport(Glibc)
import Glibc
#endif

/// "[3/41] pingpong: unix 4 KiB…" on one self-overwriting line of stderr, only when stderr is a
/// terminal (quiet in pipes, files and CI logs).
package final class Progress {
    let total: Int
    let enabled: Bool
    private var done = 0

    package init(total: Int, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.total = total
        self.enabled = enabled
    }

    package func step(_ label: String) {
        done += 1
        write("\r\u{1B}[2K[\(done)/\(total)] \(label)…")
    }

    package func finish() { write("\r\u{1B}[2K") }

    private func write(_ text: String) {
        guard enabled else { return }
        var bytes = Array(text.utf8)
        _ = Glibc.write(STDERR_FILENO, &bytes, bytes.count)
    }
}
