"""Training curves: loss and accuracy per epoch, training against validation."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and devices

from matplotlib import pyplot as plt  # noqa: E402


def plot_curves(history: dict[str, list[float]], path: Path, title: str = "MNIST MLP") -> Path:
    """Two panels, loss and accuracy, with the training and validation curves and a legend."""
    epochs = range(1, len(history["loss"]) + 1)
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=120, layout="constrained")
    panels = (("loss", "Loss (cross-entropy)"), ("accuracy", "Accuracy"))
    for axis, (metric, title) in zip(axes, panels, strict=True):
        axis.plot(epochs, history[metric], "o-", label="training")
        if f"val_{metric}" in history:
            axis.plot(epochs, history[f"val_{metric}"], "s-", label="validation (test set)")
        axis.set_title(title)
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.set_xticks(list(epochs))
        axis.grid(alpha=0.3)
        axis.legend()
    final = history.get("val_accuracy", history["accuracy"])[-1]
    figure.suptitle(f"{title} training: final validation accuracy {final:.2%}")
    figure.savefig(path)
    plt.close(figure)
    return path
