# RingTransport — the front door. `make bench` runs the main job, `make test` the test suite.
# Both install what they need on a fresh Debian/Ubuntu machine (liburing-dev via apt-get).

SWIFT        ?= swift
# Every release build links the Swift runtime and standard library statically: the runtime's
# thread-locals (current task, executor) are then read without a __tls_get_addr call and its
# entry points (swift_retain, swift_release, …) called without a PLT stub. Measured on the
# invocation path: ×64 invocations/s +15–40 %, ×1 p50 −0.2–0.6 µs (Docs/Benchmarks.md). All
# release builds share one flag set: changing it rebuilds everything.
RELEASE      := -c release --static-swift-stdlib
RINGBENCH    := .build/release/ringbench
BENCH_ARGS   ?=
BENCH_JSON   ?= .build/ringbench.json
BENCH_CSV    ?= .build/ringbench.csv
BENCH_PLOT   ?= .build/ringbench.svg

.PHONY: all api-list api-check api-update deps deps-python deps-http deps-valgrind worker-lib c-worker conform stress-abi bench-http http-host build test test-asan test-tsan fuzz stress-short bench bench-cost bench-copy-limit bench-micro bench-micro-check bench-micro-update fmt lint clean

all: build

# liburing (and pkg-config, through which SwiftPM finds it) are the only system dependencies.
deps:
	@if ! pkg-config --exists liburing 2>/dev/null; then \
		echo "installing liburing-dev (apt-get)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq liburing-dev pkg-config >/dev/null; \
	fi

# python3 runs the Python example worker in `make test` (Debian's package when missing).
deps-python:
	@if ! command -v python3 >/dev/null 2>&1; then \
		echo "installing python3 (apt-get)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3 >/dev/null; \
	fi

# valgrind (callgrind counts instructions), for bench-cost only.
deps-valgrind:
	@if ! command -v valgrind >/dev/null 2>&1; then \
		echo "installing valgrind (apt-get)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq valgrind >/dev/null; \
	fi

# wrk, the HTTP load generator of `ringbench http` (Debian's package), for bench-http only.
deps-http: deps
	@if ! command -v wrk >/dev/null 2>&1; then \
		echo "installing wrk (apt-get)"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; \
	fi

build: deps
	$(SWIFT) build

# Builds everything first (the cross-process tests spawn the RingFixture executable), then runs
# the whole suite.
test: deps deps-python
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(MAKE) stress-short
	$(MAKE) conform stress-abi WORKER_LIB_CONFIG=debug
	$(MAKE) api-check

# A short audited stress run (Docs/Reliability.md): 2 workers at peak load, a worker SIGKILLed
# every 2 s and restarted; exits non-zero on any missing/mismatched context, corruption, lost or
# duplicate outcome, or unexpected error. Uses the debug build `test` just made.
STRESS_SECONDS ?= 30
stress-short:
	.build/debug/ringbench stress --duration $(STRESS_SECONDS) --workers 2 --kill-every 2 \
		--sizes 64:90,1K:9,64K:1 --progress-interval 10 --json .build/stress-short.json

# The public API of the library modules, one declaration per line (Tests/API/public-api.txt,
# checked in; generated from SwiftPM's symbol graphs by Tests/API/list-public-api.py). `api-check`
# fails and shows the difference when the surface changed; `api-update` accepts the change.
API_LIST := .build/public-api.txt
api-list: deps deps-python
	$(SWIFT) package dump-symbol-graph --minimum-access-level public > .build/api-graphs.log
	python3 Tests/API/list-public-api.py "$$(sed -n 's/^Files written to //p' .build/api-graphs.log)" > $(API_LIST)
api-check: api-list
	@diff -u Tests/API/public-api.txt $(API_LIST) && echo "public API unchanged (Tests/API/public-api.txt)" \
		|| { echo "the public API changed: review the diff above, then run make api-update"; exit 1; }
api-update: api-list
	cp $(API_LIST) Tests/API/public-api.txt

# The C ABI of the worker side (Docs/WorkerABI.md): libringworker.so, with the Swift runtime linked
# in statically (a C or Python process needs nothing else), its header and a pkg-config file, under
# WORKER_LIB_PREFIX. It is linked from the objects SwiftPM built for the `ringworker` product;
# WORKER_LIB_CONFIG=debug reuses `make test`'s build.
SWIFTC            ?= swiftc
WORKER_LIB_CONFIG ?= release
WORKER_LIB_PREFIX ?= $(CURDIR)/.build/ringworker
# A release library is built in a folder of its own: SwiftPM cannot link a dynamic library product
# with --static-swift-stdlib (the flag of every other release build, see RELEASE), and one folder
# with two flag sets would rebuild everything at each switch. The library is linked by swiftc
# -static-stdlib below either way.
WORKER_LIB_BUILD  := $(if $(filter release,$(WORKER_LIB_CONFIG)),.build-worker-lib,.build)
RINGWORKER_PC     := PKG_CONFIG_PATH=$(WORKER_LIB_PREFIX)/lib/pkgconfig pkg-config
worker-lib: deps
	$(SWIFT) build -c $(WORKER_LIB_CONFIG) --scratch-path $(WORKER_LIB_BUILD) --product ringworker
	mkdir -p $(WORKER_LIB_PREFIX)/lib/pkgconfig $(WORKER_LIB_PREFIX)/include/ringtransport $(WORKER_LIB_PREFIX)/bin
	$(SWIFTC) -emit-library -static-stdlib @$(WORKER_LIB_BUILD)/$(WORKER_LIB_CONFIG)/ringworker.product/Objects.LinkFileList \
		-Xlinker --version-script=$(CURDIR)/Sources/CRingWorker/ringworker.map -o $(WORKER_LIB_PREFIX)/lib/libringworker.so
	if [ "$(WORKER_LIB_CONFIG)" = release ]; then strip --strip-unneeded $(WORKER_LIB_PREFIX)/lib/libringworker.so; fi
	cp Sources/CRingWorker/include/ringtransport/worker.h $(WORKER_LIB_PREFIX)/include/ringtransport/
	sed 's|@prefix@|$(WORKER_LIB_PREFIX)|' Sources/CRingWorker/ringworker.pc.in > $(WORKER_LIB_PREFIX)/lib/pkgconfig/ringworker.pc

# The C example worker, built the way a third party builds against the library (pkg-config), with
# the system's cc or else the Swift toolchain's clang.
WORKER_CC ?= $(shell command -v cc 2>/dev/null || command -v clang 2>/dev/null)
c-worker: worker-lib
	$(WORKER_CC) -O2 -Wall -Wextra -o $(WORKER_LIB_PREFIX)/bin/c-worker Examples/c-worker/worker.c \
		$$($(RINGWORKER_PC) --cflags --libs ringworker) -Wl,-rpath,$(WORKER_LIB_PREFIX)/lib

# `ringbench conform` (Docs/WorkerABI.md) on the three example workers: Swift, C (the C ABI) and
# Python (the C ABI through ctypes). Uses the debug ringbench that `test` built.
CONFORM_WORKERS = .build/debug/RingExampleWorker $(WORKER_LIB_PREFIX)/bin/c-worker Examples/python-worker/worker.py
conform: c-worker deps-python
	$(SWIFT) build --product ringbench
	$(SWIFT) build --product RingExampleWorker
	RINGWORKER_LIBRARY=$(WORKER_LIB_PREFIX)/lib/libringworker.so .build/debug/ringbench conform \
		$(foreach worker,$(CONFORM_WORKERS),--worker-path $(worker)) --json .build/conform.json

# Short audited stress runs (kills every 2 s) of the C and Python workers.
ABI_STRESS_SECONDS ?= 10
stress-abi: c-worker deps-python
	$(SWIFT) build --product ringbench
	for worker in $(WORKER_LIB_PREFIX)/bin/c-worker Examples/python-worker/worker.py; do \
		RINGWORKER_LIBRARY=$(WORKER_LIB_PREFIX)/lib/libringworker.so .build/debug/ringbench stress --duration $(ABI_STRESS_SECONDS) \
			--workers 2 --kill-every 2 --sizes 64:90,1K:9,64K:1 --progress-interval 10 --worker-path $$worker || exit 1; \
	done

# Ends a sanitizer recipe line: keeps the test command's exit status ($$? of the command before
# it), but fails when any per-process report file $(1).<pid> holds a report matching $(2), and
# prints those files.
define fail-on-reports
status=$$?; \
	reports=$$(grep -l "$(2)" $(1).* 2>/dev/null); \
	if [ -n "$$reports" ]; then cat $$reports; echo "sanitizer reports above: $$reports"; exit 1; fi; \
	exit $$status
endef

# The whole suite under AddressSanitizer (own build folder; ≈ 5 min to build). What leaks at exit
# outside RingTransport is suppressed by Tests/lsan-suppressions.txt (each entry says why). SWIFT_BACKTRACE=enable=no: under ASan,
# Swift's crash handler turns a deliberately crashing worker's SIGABRT into "exit 1" (the channel
# tests assert the signal); without the handler the signal is reported as it is.
# As under TSan, every process (test runner and workers) writes its reports to
# .build-asan/asan-report.<pid>; any file with an error report fails the target (LeakSanitizer
# also writes its table of suppressions used there, which is not a failure).
test-asan: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	rm -f .build-asan/asan-report.*
	SWIFT_BACKTRACE=enable=no LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/lsan-suppressions.txt RING_WATCHDOG_SCALE=4 \
	ASAN_OPTIONS=log_path=$(CURDIR)/.build-asan/asan-report \
		$(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan --skip '$(ASAN_SKIP)'; \
	$(call fail-on-reports,.build-asan/asan-report,ERROR: \(Address\|Leak\)Sanitizer)

# Skipped under ASan: the exact mapping-count leak test (ASan's runtime maps and unmaps shadow and
# allocator memory of its own, so the process's mapping count moves by itself), and the million
# hand-offs through sleep, whose check that no sleep ever reached its 100 ms bound (a lost wake-up
# cannot hide behind the bound) ASan's load on 2 vCPUs can fail with no wake-up lost: a peer
# descheduled that long between its publish and its wake (TSan skips it too; `make test` runs it).
ASAN_SKIP ?= hundredStartStopCyclesLeakNoDescriptorOrMapping|millionHandOffsThroughSleepLoseNoWakeUp

# The concurrency tests under ThreadSanitizer (own build folder). Known false positives are
# suppressed by Tests/tsan-suppressions.txt (each entry says why).
# Skipped under TSan: the 10^5–10^6-iteration soak tests (~10× slower, they outlast their
# watchdogs on 2 shared vCPUs; the shorter concurrency tests cover the same paths), the exact
# mapping-count leak test (the sanitizer runtime maps and unmaps memory of its own), and
# terminateLetsInFlightFinishThenCancelsTheRest (a TSan worker needs longer to exit than the
# test's 500 ms kill margin, so it is killed instead of ending in order).
TSAN_SKIP ?= illion|undred|terminateLetsInFlightFinishThenCancelsTheRest
TSAN_FILTER ?= InProcessProducerTests|AsyncRingTests|CrossProcessEchoTests|ReactorTests|WaitingTests|RingChannelTests|StressRunTests|StressRegressionTests|GRPCRingTransportTests|LinkReaderTests|LinkGreetingTests
# Every process (the test runner and the worker processes it starts, which inherit TSAN_OPTIONS)
# writes its reports to .build-tsan/tsan-report.<pid>; any report in them fails the target, so a
# race seen only inside a worker is not lost in the output.
# RING_TSAN makes RingMutex a pthread mutex, which TSan understands (Sources/RingCore/RingMutex.swift).
test-tsan: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan -Xswiftc -DRING_TSAN
	rm -f .build-tsan/tsan-report.*
	SWIFT_BACKTRACE=enable=no RING_WATCHDOG_SCALE=4 \
	TSAN_OPTIONS="suppressions=$(CURDIR)/Tests/tsan-suppressions.txt halt_on_error=0 exitcode=66 log_path=$(CURDIR)/.build-tsan/tsan-report" \
		$(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan -Xswiftc -DRING_TSAN --filter '$(TSAN_FILTER)' --skip '$(TSAN_SKIP)'; \
	$(call fail-on-reports,.build-tsan/tsan-report,\(WARNING\|ERROR\): ThreadSanitizer)

# libFuzzer over frame validation, context decoding, segment attach and ring draining
# (Fuzz/RingFuzz.swift). RingCore is built with coverage instrumentation by SwiftPM, the entry
# point is linked by swiftc -sanitize=fuzzer,address. Runs FUZZ_TIME seconds; crash inputs go to
# fuzz-artifacts/ (turn each into a regression test, see Docs/Reliability.md).
FUZZ_TIME ?= 60
FUZZ_BUILD := .build-fuzz/release
# The fuzzer reads RingCore's `package` declarations (ring geometry addresses), so it is compiled
# into the same Swift package: SwiftPM names a root package after its directory (lower case,
# '-' and '.' as '_').
FUZZ_PACKAGE := $(shell basename "$(CURDIR)" | tr 'A-Z.-' 'a-z__')
fuzz: deps
	$(SWIFT) build -c release --scratch-path .build-fuzz --target RingCore \
		-Xswiftc -sanitize=fuzzer,address
	swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name RingFuzz -package-name $(FUZZ_PACKAGE) Fuzz/RingFuzz.swift \
		-I $(FUZZ_BUILD)/Modules -I .build-fuzz/checkouts/swift-atomics/Sources/_AtomicsShims/include -I Sources/CRingPrefetch \
		$(FUZZ_BUILD)/RingCore.build/*.o $(FUZZ_BUILD)/Atomics.build/*.o $(FUZZ_BUILD)/_AtomicsShims.build/src/*.o \
		-o $(FUZZ_BUILD)/ringfuzz 2>&1 | grep -v "Cannot export local symbol '__asan" || true
	test -x $(FUZZ_BUILD)/ringfuzz
	mkdir -p fuzz-artifacts fuzz-artifacts/corpus
	$(FUZZ_BUILD)/ringfuzz -max_total_time=$(FUZZ_TIME) -print_final_stats=1 -max_len=8192 \
		-artifact_prefix=fuzz-artifacts/ fuzz-artifacts/corpus

# `ringbench compare` (≈ 3 minutes on 2 cores): every transport × size × scenario in one table, plus
# JSON, CSV and an SVG plot in .build/. It spawns RingExampleWorker (built beside it) for invoke.
bench: deps
	$(SWIFT) build $(RELEASE) --product ringbench
	$(SWIFT) build $(RELEASE) --product RingExampleWorker
	$(RINGBENCH) compare --json $(BENCH_JSON) --csv $(BENCH_CSV) --plot $(BENCH_PLOT) $(BENCH_ARGS)

# Instructions per message of the ring's writer and reader against the floor's (≈ 1 minute):
# `ringbench cost` under callgrind, the same count on every run of the same binary
# (Benchmarks/Scripts/instructions-per-message.sh; Docs/Benchmarks.md, stop 33). COST_ARGS:
# sizes, then transports, then `ringbench cost` options, e.g. COST_ARGS="64 ring --writer frames".
COST_ARGS ?=
bench-cost: deps deps-valgrind
	$(SWIFT) build $(RELEASE) --product ringbench
	Benchmarks/Scripts/instructions-per-message.sh $(RINGBENCH) $(COST_ARGS)

# The one-way ring against what copying in and out can reach on this machine (≈ 1 minute): the bare
# two-process copy ring (Benchmarks/CopyLimit/copy-limit.c) and `ringbench throughput --transports
# ring`, in alternating rounds, both read against memcpy (Docs/Benchmarks.md, stop 35).
# COPY_LIMIT_ARGS: e.g. "--sizes 4096,65536 --rounds 8 --ring-bytes 4194304".
COPY_LIMIT_ARGS ?=
bench-copy-limit: deps deps-python
	$(SWIFT) build $(RELEASE) --product ringbench
	python3 Benchmarks/Scripts/copy-limit.py $(RINGBENCH) $(COPY_LIMIT_ARGS)

# `ringbench http` (≈ 1.5 minutes): the HTTP function host (RingHTTPHost) under wrk, rings vs
# gRPC/HTTP/2 to the workers vs in-process, at 16/64/256 connections with 1 KiB bodies; JSON and
# an SVG plot in .build/ (Docs/HTTP.md). HTTP_ARGS adds options (e.g. --negative-control).
HTTP_ARGS ?=
bench-http: deps-http
	$(SWIFT) build $(RELEASE) --product ringbench
	$(SWIFT) build $(RELEASE) --product RingHTTPHost
	$(SWIFT) build $(RELEASE) --product RingHTTPWorker
	$(RINGBENCH) http --json .build/ringbench-http.json --plot .build/ringbench-http.svg $(HTTP_ARGS)

# Runs the HTTP function host on port 8080 over the rings (HTTP_HOST_ARGS: e.g. --route grpc).
HTTP_HOST_ARGS ?=
http-host: deps
	$(SWIFT) build $(RELEASE) --product RingHTTPHost
	$(SWIFT) build $(RELEASE) --product RingHTTPWorker
	.build/release/RingHTTPHost $(HTTP_HOST_ARGS)

# Micro-benchmarks (package-benchmark) live in their own package so the main one stays lean.
bench-micro: deps
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark --no-progress

bench-micro-check: deps
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark thresholds check --no-progress

# Re-records Benchmarks/Thresholds (three runs, the slowest value per metric is kept).
bench-micro-update: deps
	cd Benchmarks && Scripts/update-thresholds.sh

fmt:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

lint:
	$(SWIFT) format lint --recursive Sources Tests Package.swift

clean:
	rm -rf .build .build-worker-lib Benchmarks/.build
