"""The perf wing: benchmarks (bench), seed tables (seeds) and side-by-side epoch timings
(epoch_timing). Imports every wing below it; nothing imports it but the CLI and scripts.
"""
