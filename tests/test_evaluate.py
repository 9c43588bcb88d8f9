"""Evaluation on hand-built tensors whose answers are known."""
import math

import torch

from mnist_core.analysis.evaluate import predict_logits, report_from_logits


def one_hot_logits(predictions, confidence_logit=5.0):
    logits = torch.zeros(len(predictions), 10)
    logits[torch.arange(len(predictions)), torch.tensor(predictions)] = confidence_logit
    return logits


def test_known_confusion_accuracy_and_per_class():
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 2, 3])
    predictions = [0, 1, 1, 1, 2, 2, 0, 3]
    report = report_from_logits(one_hot_logits(predictions), labels)
    assert report.accuracy == 6 / 8
    matrix = report.confusion_matrix
    assert matrix[0][0] == 1 and matrix[0][1] == 1 and matrix[2][0] == 1 and matrix[3][3] == 1
    assert sum(map(sum, matrix)) == 8
    zero, one, two = report.per_class[0], report.per_class[1], report.per_class[2]
    assert (zero["precision"], zero["recall"], zero["support"]) == (0.5, 0.5, 2)
    assert math.isclose(one["precision"], 2 / 3) and one["recall"] == 1.0
    assert math.isclose(one["f1"], 0.8)
    assert math.isclose(two["recall"], 2 / 3) and two["precision"] == 1.0
    assert report.per_class[9]["support"] == 0 and report.per_class[9]["f1"] == 0.0
    wrong = {(m["index"], m["true"], m["predicted"]) for m in report.misclassified}
    assert wrong == {(1, 0, 1), (6, 2, 0)}


def test_loss_and_confidence_from_uniform_logits():
    logits = torch.zeros(4, 10)
    report = report_from_logits(logits, torch.tensor([0, 1, 2, 3]))
    assert math.isclose(report.loss, math.log(10), rel_tol=1e-6)
    assert all(math.isclose(m["confidence"], 0.1, rel_tol=1e-5) for m in report.misclassified)


def test_predict_logits_matches_a_plain_forward_and_leaves_the_model_alone():
    from mnist_core.models import create_model

    torch.manual_seed(0)
    model = create_model("writeup003").train()
    images = torch.randn(37, 1, 28, 28)
    logits = predict_logits(model, images, batch_size=16)  # channels_last copy, 3 batches
    assert model.training  # mode restored
    assert all(p.is_contiguous() for p in model.parameters())  # the caller's weights untouched
    model.eval()
    with torch.no_grad():
        expected = model(images)
    assert torch.allclose(logits, expected, atol=1e-4)
