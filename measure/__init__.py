"""Timing the runtime on the machine at hand: `mnist-edge bench`, and the harness that the
repository's benchmarks share (latency percentiles, throughput, the CPU's features). Not part
of the inference path: nothing in runtime/ imports it."""

from pathlib import Path

# The first 1,000 MNIST test images and labels: `mnist-edge bench` times these where MNIST
# itself is not (a device; the bundle ships no data). Written by tests/make_samples.py.
TEST_SLICE = Path(__file__).parent / "mnist-test-1000.npz"
