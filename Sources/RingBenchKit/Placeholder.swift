public enum RingBenchKitPlaceholder {}
