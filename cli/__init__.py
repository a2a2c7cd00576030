"""The `mnist-edge` command: one module per command, wiring options to train, export,
runtime and pictures. Importing it is cheap; heavy modules load inside the commands."""
