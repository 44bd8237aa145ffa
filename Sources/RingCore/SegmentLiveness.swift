/// Ordered access to the per-side liveness words of the segment header.
package enum SegmentLiveness {
    /// Release: everything this side did before (e.g. publishing frames) is visible before the new
    /// state → read by `load` (acquire) on the peer.
    package static func store(_ state: SegmentLayout.Liveness, at address: UnsafeMutableRawPointer) {
        SharedAtomics.storeRelease32(state.rawValue, address)
    }

    package static func load(at address: UnsafeMutableRawPointer) -> SegmentLayout.Liveness {
        SegmentLayout.Liveness(rawValue: SharedAtomics.loadAcquire32(address)) ?? .closed
    }
}
