"""The analysis wing: what a model in memory does on data. Inference and test-set reports
(evaluate), one drawing's reading (predict, uncertainty), explanations (explain), robustness probes
(robustness), what changed between two models (changes) and Pareto fronts (pareto). Imports only
data and models; results that are kept on disk are the store's (store.derived).
"""
