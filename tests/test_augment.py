"""Augmentation: pure, per-sample, identity at zero strength, order (and so labels) kept."""
import torch

from mnist_core.data.augment import affine_matrices, apply_affine, augment_batch


def test_zero_strength_is_identity(tiny):
    images = tiny.train.images[:16]
    assert torch.equal(augment_batch(images), images)
    identity = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).expand(16, 2, 3)
    assert torch.allclose(apply_affine(images, identity), images, atol=1e-5)


def test_parameters_differ_per_sample_and_are_reproducible():
    theta = affine_matrices(32, rotation=15, translate=0.1, scale=0.1,
                            generator=torch.Generator().manual_seed(3))
    assert len({tuple(t.flatten().round(decimals=5).tolist()) for t in theta}) == 32
    again = affine_matrices(32, rotation=15, translate=0.1, scale=0.1,
                            generator=torch.Generator().manual_seed(3))
    assert torch.equal(theta, again)


def test_one_image_repeated_gets_different_augmentations(tiny):
    image = tiny.train.images[:1].repeat(8, 1, 1, 1)
    out = augment_batch(image, rotation=20, generator=torch.Generator().manual_seed(0))
    distinct = {round(float((out[i] - out[0]).abs().sum()), 3) for i in range(8)}
    assert len(distinct) == 8


def test_order_kept_so_labels_still_match(tiny):
    """Sample i of the output is image i warped by its own matrix: labels stay aligned."""
    images, labels = tiny.train.images[:16], tiny.train.labels[:16].clone()
    out = augment_batch(images, rotation=10, translate=0.05, scale=0.05,
                        generator=torch.Generator().manual_seed(1))
    theta = affine_matrices(16, rotation=10, translate=0.05, scale=0.05,
                            generator=torch.Generator().manual_seed(1))
    for i in range(16):
        assert torch.allclose(out[i:i + 1], apply_affine(images[i:i + 1], theta[i:i + 1]), atol=1e-5)
    assert not torch.allclose(out, images, atol=1e-2)
    assert torch.equal(labels, tiny.train.labels[:16])
    assert out.shape == images.shape and torch.isfinite(out).all()


def test_rotation_by_90_degrees_matches_rot90(tiny):
    images = tiny.train.images[:4]
    angle = torch.tensor(torch.pi / 2)
    theta = torch.tensor([[angle.cos(), -angle.sin(), 0], [angle.sin(), angle.cos(), 0]]).expand(4, 2, 3)
    rotated = apply_affine(images, theta)
    expected = torch.rot90(images, k=1, dims=(2, 3))
    other = torch.rot90(images, k=-1, dims=(2, 3))
    assert min((rotated - expected).abs().max(), (rotated - other).abs().max()) < 1e-4


def test_center_crop_zooms_in(tiny):
    images = tiny.train.images[:8]
    out = augment_batch(images, center_crop_prob=1.0, center_crop_size=22)
    ink_in = (images > 0).float().sum()
    ink_out = (out > 0).float().sum()
    assert ink_out > ink_in * 1.2  # a crop to 22 px resized to 28 enlarges the digit
