"""Layer tables, memory estimates and the Pareto front."""
from mnist_core.analysis.pareto import pareto_front
from mnist_core.models import count_parameters, create_model, list_models
from mnist_core.models.trace import memory_estimate, trace_layers


def test_traced_layers_add_up_to_the_parameter_count():
    for name in list_models():
        model = create_model(name)
        rows = trace_layers(model)
        assert sum(row["params"] for row in rows) == count_parameters(model)
        assert rows[-1]["output"][-1] == 10 or rows[-1]["output"][0] == 10


def test_memory_estimate_counts_weights_in_float32():
    estimate = memory_estimate("writeup002")
    assert estimate["weights_bytes"] == 19578 * 4
    assert estimate["activations_bytes_per_image"] > 16 * 28 * 28 * 4


def test_pareto_front():
    points = [("big", 1000, 99.0), ("small", 10, 98.0), ("worse", 500, 97.0), ("best", 2000, 99.5),
              ("tie", 10, 97.5)]
    assert pareto_front(points) == ["small", "big", "best"]
