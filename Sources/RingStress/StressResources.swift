// StressResources — the soak's samples of the host process: resident memory and open descriptors,
// and their drift over the run.
import RingBenchKit
#if canImport(Glibc)
import Glibc
#endif

/// Resident set size and open file descriptors of this process, sampled through a run.
package struct StressResourceReport: Codable, Sendable, Equatable {
    package var samples: Int
    package var rssBytes: Drift
    package var openDescriptors: Drift

    /// `baseline` is the median of the samples in the second tenth of the run (the first tenth is
    /// warm-up: pools, histograms and caches fill); `end` the median of the last tenth; drift is
    /// (end − baseline) / baseline.
    package struct Drift: Codable, Sendable, Equatable {
        package var first: Double
        package var baseline: Double
        package var end: Double
        package var max: Double
        package var driftPercent: Double

        init(_ values: [Double]) {
            func median(_ slice: ArraySlice<Double>) -> Double {
                let sorted = slice.sorted()
                return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
            }
            let n = values.count
            let tenth = Swift.max(1, n / 10)
            first = values.first ?? 0
            baseline = median(values[Swift.min(tenth, n - 1)..<Swift.min(2 * tenth, n)])
            end = median(values[Swift.max(0, n - tenth)..<n])
            max = values.max() ?? 0
            driftPercent = baseline > 0 ? (end - baseline) / baseline * 100 : 0
        }
    }

    init?(rss: [Double], descriptors: [Double]) {
        guard !rss.isEmpty else { return nil }
        samples = rss.count
        rssBytes = Drift(rss)
        openDescriptors = Drift(descriptors)
    }
}

enum ProcessResourceSample {
    /// Resident bytes of this process (/proc/self/statm, second field × page size).
    static func residentBytes() -> Double {
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        var size = 0
        var resident = 0
        guard fscanf_statm(file, &size, &resident) else { return 0 }
        return Double(resident) * Double(sysconf(Int32(_SC_PAGESIZE)))
    }

    private static func fscanf_statm(_ file: UnsafeMutablePointer<FILE>, _ size: inout Int, _ resident: inout Int) -> Bool {
        var buffer = [CChar](repeating: 0, count: 256)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return false }
        let fields = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ")
        guard fields.count >= 2, let s = Int(fields[0]), let r = Int(fields[1]) else { return false }
        size = s
        resident = r
        return true
    }

    /// Open descriptors of this process (entries of /proc/self/fd, less the one reading it).
    static func openDescriptors() -> Double {
        guard let directory = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { $0.first }
            if name != UInt8(ascii: ".") { count += 1 }
        }
        return Double(max(0, count - 1))
    }
}
