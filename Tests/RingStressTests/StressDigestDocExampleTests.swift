import RingAudit
import Testing

/// The worked `digest` example in Docs/Protocol.md §11 comes from the code: if the hash or the
/// pattern changes, this fails and the docs must change with it.
@Suite struct StressDigestDocExampleTests {
    static func hex(_ text: String) -> [UInt8] {
        text.split(separator: " ").map { UInt8($0, radix: 16)! }
    }

    @Test func theDocumentedDigestsAndPatternAreTheCodes() {
        let request = Self.hex("10 00 00 00 01 00 00 00 00 00 00 00 16 7c 4a 7f")
        #expect(StressDigest.hash([], seed: 0xDA7A_DA7A) == 0x273c_884f_d222_c004)
        #expect(StressDigest.hash(request, seed: 0xDA7A_DA7A) == 0x6d15_e5ed_5d62_6624)
        var pattern = [UInt8](repeating: 0, count: 16)
        pattern.withUnsafeMutableBytes { StressDigest.fill($0, seed: 0x7831_a6cb_fefe_146c) }
        #expect(pattern == Self.hex("6c 14 fe fe cb a6 31 78 81 90 48 7e 85 20 69 16"))
    }
}
