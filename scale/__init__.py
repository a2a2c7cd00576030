"""The cluster engine: `mnist-edge predict --engine ray`, the runtime's own decode, preprocess
and model run as Ray Data batches across the cores of one machine or a cluster.

`from mnist_edge.scale import predict_dataset` is the entry for a user's own Ray jobs. Ray is
imported only inside the functions that use it, so nothing here costs anything until the
engine is asked for.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mnist_edge.scale.engine import predict_dataset

__all__ = ["predict_dataset"]


def __getattr__(name: str) -> object:
    if name in __all__:
        from mnist_edge.scale import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'mnist_edge.scale' has no attribute {name!r}")
