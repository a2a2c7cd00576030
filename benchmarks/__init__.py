"""`make bench` and the other benchmark targets: the figures of the documentation's pages."""
