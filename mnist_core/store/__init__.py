"""The store wing: what a trained model is and where it lives. One record shape (records), the
only code touching .pt files (checkpoint), the shipped checkpoints (shipped), runs as objects
(runs), results derived from weights kept on disk (derived) and Optuna searches whose trials are
runs (sweep). Imports every wing below it.
"""
