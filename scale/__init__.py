"""The cluster engine: `mnist-edge predict --engine ray`, the runtime's own decode, preprocess
and model run as Ray Data batches across the cores of one machine or a cluster.

`predict_dataset` is the entry for a user's own Ray jobs. Ray is imported only inside the
functions that use it, so nothing here costs anything until the engine is asked for.
"""
