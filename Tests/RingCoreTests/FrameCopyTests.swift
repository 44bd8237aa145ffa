import RingCore
import Testing

/// `FrameCopy.copy`, which every writer uses to put a context or payload into its frame: every
/// length up to past the small-copy cut-off, from every source alignment to every target alignment,
/// copies exactly `count` bytes and writes nothing around them.
@Suite struct FrameCopyTests {
    @Test func everyLengthAndAlignmentCopiesExactlyItsBytes() {
        let guardByte: UInt8 = 0xEE
        var failures: [String] = []
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: 160, alignment: 64)
        let target = UnsafeMutableRawBufferPointer.allocate(byteCount: 240, alignment: 64)
        defer {
            source.deallocate()
            target.deallocate()
        }
        for i in 0..<source.count { source[i] = UInt8(truncatingIfNeeded: i &* 13 &+ 1) }
        for count in 0...130 {
            for sourceOffset in 0..<8 {
                for targetOffset in [0, 1, 3, 8, 13] {
                    target.initializeMemory(as: UInt8.self, repeating: guardByte)
                    let from = UnsafeRawBufferPointer(rebasing: source[sourceOffset..<(sourceOffset + count)])
                    FrameCopy.copy(from, to: target.baseAddress! + 32 + targetOffset)
                    let start = 32 + targetOffset
                    let copied = Array(target[start..<(start + count)])
                    let around = Array(target[0..<start]) + Array(target[(start + count)...])
                    if copied != Array(from) || around.contains(where: { $0 != guardByte }) {
                        failures.append("count \(count) source +\(sourceOffset) target +\(targetOffset)")
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) cases, first: \(failures.prefix(5))")
    }
}
