import RingBenchKit

RingBench.main()
