"""The training recipe. Its defaults are the Keras tutorial's, exactly."""

from dataclasses import dataclass

OPTIMIZERS = ("rmsprop", "adam", "sgd")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 8  # passes over the training images
    batch_size: int = 128  # images per gradient step
    hidden_units: int = 256  # width of the Dense(relu) layer
    optimizer: str = "rmsprop"  # one of OPTIMIZERS
    learning_rate: float | None = None  # None keeps the optimizer's Keras default (1e-3)
    seed: int | None = None  # None: a different run each time; an int: repeatable weights
    train_limit: int | None = None  # use only the first N training images (quick runs)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.hidden_units < 1:
            raise ValueError("epochs, batch size and hidden units must be at least 1")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        if self.learning_rate is not None and self.learning_rate <= 0:
            raise ValueError("learning rate must be positive")
        if self.train_limit is not None and self.train_limit < 1:
            raise ValueError("train limit must be at least 1")
