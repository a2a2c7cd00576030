"""The training recipes: the Keras tutorial's MLP (the default, exactly) and a small CNN."""

from dataclasses import dataclass

ARCHITECTURES = ("mlp", "cnn")
OPTIMIZERS = ("rmsprop", "adam", "sgd")


@dataclass(frozen=True)
class TrainConfig:
    """The tutorial's MLP: Flatten -> Dense(256, relu) -> Dense(10, softmax), RMSprop."""

    epochs: int = 8  # passes over the training images
    batch_size: int = 128  # images per gradient step
    hidden_units: int = 256  # width of the Dense(relu) layer
    optimizer: str = "rmsprop"  # one of OPTIMIZERS
    learning_rate: float | None = None  # None keeps the optimizer's Keras default (1e-3)
    seed: int | None = None  # None: a different run each time; an int: repeatable weights
    train_limit: int | None = None  # use only the first N training images (quick runs)
    augment: bool = False  # distort the training images on the fly (train/augment.py)

    @property
    def arch(self) -> str:
        return "mlp"

    def __post_init__(self) -> None:
        check_common(self)
        if self.hidden_units < 1:
            raise ValueError("hidden units must be at least 1")


@dataclass(frozen=True)
class CnnConfig:
    """A small CNN for edge devices (train/cnn.py): strided convolutions, no pooling over
    full-size maps, so that its activations stay small at large batches."""

    epochs: int = 15  # passes over the training images
    batch_size: int = 128  # images per gradient step
    filters: tuple[int, int, int] = (16, 32, 64)  # channels of the three convolutions
    optimizer: str = "adam"  # one of OPTIMIZERS
    learning_rate: float | None = 3e-3  # the peak; it decays to 0 along a cosine
    seed: int | None = None  # None: a different run each time; an int: repeatable weights
    train_limit: int | None = None  # use only the first N training images (quick runs)
    augment: bool = False  # distort the training images on the fly (train/augment.py)

    @property
    def arch(self) -> str:
        return "cnn"

    def __post_init__(self) -> None:
        check_common(self)
        if len(self.filters) != 3 or min(self.filters) < 1:
            raise ValueError("filters must be three channel counts of at least 1")


Recipe = TrainConfig | CnnConfig
RECIPES: dict[str, type[Recipe]] = {"mlp": TrainConfig, "cnn": CnnConfig}


def recipe(arch: str, **overrides: object) -> Recipe:
    """The recipe of `arch` with the given fields changed (None keeps the recipe's value)."""
    if arch not in RECIPES:
        raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}")
    return RECIPES[arch](**{key: v for key, v in overrides.items() if v is not None})


def check_common(config: Recipe) -> None:
    if config.epochs < 1 or config.batch_size < 1:
        raise ValueError("epochs and batch size must be at least 1")
    if config.optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
    if config.learning_rate is not None and config.learning_rate <= 0:
        raise ValueError("learning rate must be positive")
    if config.train_limit is not None and config.train_limit < 1:
        raise ValueError("train limit must be at least 1")
