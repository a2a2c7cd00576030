"""Timing the runtime on the machine at hand: `mnist-edge bench`, and the harness that the
repository's benchmarks share (latency percentiles, throughput, the CPU's features). Not part
of the inference path: nothing in runtime/ imports it."""
