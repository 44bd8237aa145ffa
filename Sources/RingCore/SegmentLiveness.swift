/// Ordered access to the per-side liveness words of the segment header.
public enum SegmentLiveness {
    /// Release: everything this side did before (e.g. publishing frames) is visible before the new
    /// state → read by `load` (acquire) on the peer.
    public static func store(_ state: SegmentLayout.Liveness, at address: UnsafeMutableRawPointer) {
        SharedAtomics.storeRelease32(state.rawValue, address)
    }

    public static func load(at address: UnsafeMutableRawPointer) -> SegmentLayout.Liveness {
        SegmentLayout.Liveness(rawValue: SharedAtomics.loadAcquire32(address)) ?? .closed
    }
}
