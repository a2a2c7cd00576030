"""The base that export and runtime both stand on: the model contract, the errors a user can
cause, and reading MNIST and array files safely. NumPy only."""
