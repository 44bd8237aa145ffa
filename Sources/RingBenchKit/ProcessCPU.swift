#if canImport(Glibc)
import Glibc
#endif

/// CPU time consumed by this process and by a child, for "CPU seconds per million messages".
enum ProcessCPU {
    /// User + system seconds of this process.
    static func selfSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// User + system seconds of a running child, from /proc/<pid>/stat (0 if unreadable).
    static func seconds(of pid: Int32) -> Double {
        guard let fields = statFields(of: pid), fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// User + system seconds of `root` and of its living children (a host and its workers).
    static func treeSeconds(root: Int32) -> Double {
        seconds(of: root) + children(of: root).reduce(0) { $0 + seconds(of: $1) }
    }

    /// The pids whose parent is `parent`, from /proc/<pid>/stat.
    static func children(of parent: Int32) -> [Int32] {
        guard let directory = opendir("/proc") else { return [] }
        defer { closedir(directory) }
        var result: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let pid = Int32(name), let fields = statFields(of: pid), fields.count > 1, Int32(fields[1]) == parent else { continue }
            result.append(pid)
        }
        return result
    }

    /// The fields of /proc/<pid>/stat after the command name (field 3, the state, first).
    private static func statFields(of pid: Int32) -> [Substring]? {
        guard let file = fopen("/proc/\(pid)/stat", "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 4096)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let close = line.lastIndex(of: ")") else { return nil }
        return line[line.index(after: close)...].split(separator: " ")
    }

    private static func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
}
