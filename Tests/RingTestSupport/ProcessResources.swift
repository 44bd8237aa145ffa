#if canImport(Glibc)
import Glibc
#endif

/// Reads this process's open descriptors and mappings from /proc, for leak checks.
public enum ProcessResources {
    /// Open descriptors whose target (readlink of /proc/self/fd/N) contains `fragment`.
    public static func descriptors(matching fragment: String) -> Int {
        guard let dir = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            var buffer = [CChar](repeating: 0, count: 4096)
            let n = readlink("/proc/self/fd/\(name)", &buffer, buffer.count - 1)
            guard n > 0 else { continue }
            let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.contains(fragment) { count += 1 }
        }
        return count
    }

    /// Lines of /proc/self/maps that contain `fragment`.
    public static func mappings(matching fragment: String) -> Int {
        guard let file = fopen("/proc/self/maps", "r") else { return -1 }
        defer { fclose(file) }
        var count = 0
        var line = [CChar](repeating: 0, count: 8192)
        while fgets(&line, Int32(line.count), file) != nil {
            if String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).contains(fragment) { count += 1 }
        }
        return count
    }

    /// Open descriptors of this process.
    public static func descriptorCount() -> Int {
        guard let dir = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(dir) }
        var count = 0
        while readdir(dir) != nil { count += 1 }
        return count - 3  // ".", ".." and the directory's own descriptor
    }
}
