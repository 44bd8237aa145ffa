// StressDigest — the checksum both ends of `ringbench stress` compute (RingBenchKit's audit and
// RingExampleWorker's `digest` function), and the byte patterns its payloads are made of. Its own
// tiny module so the worker executable and the benchmark library share one implementation.

/// A 64-bit, word-at-a-time checksum (not cryptographic: it detects corruption and mix-ups, which
/// is all the audit needs) and the deterministic patterns payloads are filled with.
public enum StressDigest {
    /// Multiplier of the word mix (the 64-bit golden ratio).
    static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// Checksum of `bytes`; `seed` separates the uses (context, payload).
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        var h = seed ^ golden ^ UInt64(bytes.count)
        var offset = 0
        let count = bytes.count
        while offset + 8 <= count {
            let word = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            h = (h ^ word) &* golden
            h = (h << 31) | (h >> 33)
            offset += 8
        }
        while offset < count {
            h = (h ^ UInt64(bytes[offset])) &* golden
            offset += 1
        }
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }

    public static func hash(_ bytes: [UInt8], seed: UInt64) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    /// Seeds of the two digests the worker returns.
    public static let contextSeed: UInt64 = 0xC0DE_C0DE
    public static let payloadSeed: UInt64 = 0xDA7A_DA7A

    /// Fills `buffer` with the pattern of `seed`: little-endian word j = seed + j·golden, the tail
    /// taken from the next word.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer, seed: UInt64) {
        var offset = 0
        var word: UInt64 = 0
        var j: UInt64 = 0
        while offset + 8 <= buffer.count {
            word = seed &+ j &* golden
            buffer.storeBytes(of: word.littleEndian, toByteOffset: offset, as: UInt64.self)
            offset += 8
            j += 1
        }
        word = seed &+ j &* golden
        var shift: UInt64 = 0
        while offset < buffer.count {
            buffer[offset] = UInt8(truncatingIfNeeded: word >> shift)
            shift += 8
            offset += 1
        }
    }

    /// Whether `bytes` hold exactly the pattern of `seed`.
    public static func matches(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> Bool {
        var offset = 0
        var j: UInt64 = 0
        while offset + 8 <= bytes.count {
            let expected = seed &+ j &* golden
            guard UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) == expected else { return false }
            offset += 8
            j += 1
        }
        let word = seed &+ j &* golden
        var shift: UInt64 = 0
        while offset < bytes.count {
            guard bytes[offset] == UInt8(truncatingIfNeeded: word >> shift) else { return false }
            shift += 8
            offset += 1
        }
        return true
    }

    /// A well-mixed 64-bit value of `x` (splitmix64's finaliser).
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ golden
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
