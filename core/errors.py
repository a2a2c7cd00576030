"""Errors a user can cause. Each carries one line that says what is wrong and what to do."""


class InputError(ValueError):
    """One input (a file, or one image inside an array file) cannot be predicted."""


class ModelError(ValueError):
    """A model file is missing, unreadable, or does not follow the mnist-edge contract."""


class DataError(ValueError):
    """A data set is missing, corrupt, or not what it claims to be."""
