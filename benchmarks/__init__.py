"""`make bench` and the other benchmark targets: figures for BENCHMARKS.md."""
