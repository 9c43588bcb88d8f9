"""The training wing: one TrainConfig per run (config), named recipes (recipes), the loop that
emits events (loop.fit), its callbacks, run-time estimates (planning) and devices. Imports data,
models and analysis (evaluation at epoch ends); never the store.
"""
