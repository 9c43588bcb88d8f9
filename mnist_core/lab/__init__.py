"""The lab wing: what the lab does with runs. Launching and supervising training (a run's own
process included), the queue, promotion to checkpoints, Optuna sweeps and the deployment's mode
policy. What a run *is* on disk stays in `store/`; this wing imports it and every wing below.
"""
