// BoundedReaderUTF8Tests — the reader's UTF-8 check (decode with repair, then compare byte for byte)
// accepts and refuses exactly what the standard library's validating initialiser does, for every
// kind of malformed sequence and for valid text of every width, including a real U+FFFD.
@_spi(Codec) import RingCore
import Testing

@Suite struct BoundedReaderUTF8Tests {
    static let valid: [[UInt8]] = [
        [], Array("echo".utf8), Array("ünïcødé ✓ 𝄞 日本".utf8), Array("\u{FFFD}".utf8), Array("a\u{FFFD}b".utf8),
        [0x00], [0x7F], [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],
        [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], Array(String(repeating: "é", count: 300).utf8),
    ]
    static let invalid: [[UInt8]] = [
        [0x80], [0xBF], [0xFF], [0xFE], [0xC0, 0x80], [0xC1, 0xBF],  // stray continuation, never-valid, overlong 2-byte
        [0xE0, 0x80, 0x80], [0xF0, 0x80, 0x80, 0x80],  // overlong 3- and 4-byte
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],  // UTF-16 surrogates
        [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],  // above U+10FFFF
        [0xC2], [0xE2, 0x82], [0xF0, 0x9F, 0x98],  // truncated
        [0x61, 0xE2, 0x82, 0x61], [0xEF, 0xBF, 0xBD, 0x80],  // a broken sequence inside text; U+FFFD then a stray byte
        Array("ok".utf8) + [0xE2, 0x82],  // truncated at the end (repaired to one U+FFFD of the same length as…)
        [0xE2, 0x82, 0xE2],  // …or of a different length
    ]

    private func read(_ bytes: [UInt8]) -> Result<String, BoundedReadError> {
        let framed = [UInt8(bytes.count & 0xFF), UInt8(bytes.count >> 8)] + bytes
        return framed.withUnsafeBytes { buffer in
            var reader = BoundedReader(buffer)
            return Result { () throws(BoundedReadError) -> String in try reader.takeString("field") }
        }
    }

    @Test(arguments: valid) func validTextIsReadByteExact(_ bytes: [UInt8]) throws {
        let string = try read(bytes).get()
        #expect(Array(string.utf8) == bytes)
        #expect(String(validating: bytes, as: UTF8.self) == string)
    }

    @Test(arguments: invalid) func malformedTextIsATypedError(_ bytes: [UInt8]) {
        #expect(String(validating: bytes, as: UTF8.self) == nil, "the oracle must refuse \(bytes) too")
        #expect(throws: BoundedReadError.invalidUTF8(field: "field")) { try read(bytes).get() }
    }

    /// Every 1- and 2-byte sequence, every 3-byte one with a lead byte and a boundary third byte, and a
    /// sample of 4-byte ones get the oracle's verdict.
    @Test func agreesWithTheStandardLibraryOnEveryShortSequence() {
        var disagreements: [[UInt8]] = []
        func check(_ bytes: [UInt8]) {
            let oracle = String(validating: bytes, as: UTF8.self)
            let ours = try? read(bytes).get()
            if oracle != ours { disagreements.append(bytes) }
        }
        for a in 0...255 {
            check([UInt8(a)])
            for b in 0...255 {
                check([UInt8(a), UInt8(b)])
                guard a >= 0xC0 else { continue }  // a 3-byte sequence must start with a lead byte to be interesting
                for c: UInt8 in [0x00, 0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF] { check([UInt8(a), UInt8(b), c]) }
            }
        }
        for a: UInt8 in 0xF0...0xF5 {
            for b in stride(from: 0x70, through: 0xC0, by: 7) {
                for c: UInt8 in [0x7F, 0x80, 0xBF, 0xC0] { check([a, UInt8(b), c, 0x80]) }
            }
        }
        #expect(disagreements.isEmpty, "first: \(disagreements.prefix(5))")
    }
}
