"""Preprocessing: MNIST digits pass through; drawings come out centered and scaled like MNIST."""
import numpy as np
import pytest

from mnist_core.data.preprocess import preprocess


@pytest.fixture(scope="module")
def digits():
    from mnist_core.data.mnist import test_images_uint8
    return test_images_uint8().numpy()[:300]


def center_of_mass(image):
    rows, cols = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (cols * image).sum() / image.sum()


def test_mnist_digits_pass_through_nearly_unchanged(digits):
    differences = np.array([np.abs(preprocess(d).image - d / 255.0).mean() for d in digits])
    assert np.median(differences) < 0.005
    assert (differences < 0.02).mean() > 0.95


@pytest.mark.parametrize("factor", [2, 7, 10])
def test_a_digit_enlarged_pixel_for_pixel_reads_exactly_as_the_small_one(digits, factor):
    """A 28x28 digit on the 280x280 pad (Evaluate's "Open in Draw") or a pixel-art PNG: blurring its
    blocks down again would hand the models an image no page trained or calibrated on."""
    for digit in digits[:20]:
        big = np.kron(digit, np.ones((factor, factor), np.uint8))
        rgba = np.dstack([big, big, big, np.full_like(big, 255)])
        assert np.array_equal(preprocess(rgba).tensor, preprocess(digit).tensor)
        assert preprocess(rgba).ink_extent == preprocess(digit).ink_extent


def test_a_drawing_is_not_mistaken_for_an_enlargement():
    from mnist_core.data.preprocess import ink_intensity, undo_block_upscale
    from mnist_core.data.strokes import render

    ink = ink_intensity(render([[(60, 40), (200, 40), (120, 250)]], 18))  # a drawn 7
    assert undo_block_upscale(ink) is ink
    assert undo_block_upscale(np.ones((50, 60), np.float32)).shape == (50, 60)  # too few pixels left: unchanged


def test_small_digit_in_a_corner_is_centered_and_scaled(digits):
    canvas = np.zeros((280, 280), np.uint8)
    small = np.kron(digits[1], np.ones((2, 2), np.uint8))  # 56x56, in the top-left corner
    canvas[5:61, 5:61] = small
    result = preprocess(canvas)
    rows, cols = np.nonzero(result.image > 0.1)
    assert max(np.ptp(rows), np.ptp(cols)) + 1 in (19, 20, 21)  # longer side scaled to ~20 px
    cy, cx = center_of_mass(result.image)
    assert abs(cy - 14) < 1 and abs(cx - 14) < 1


def test_thick_light_on_dark_rgba_stroke():
    canvas = np.zeros((300, 300, 4), np.uint8)
    canvas[..., 3] = 255  # opaque black paper
    canvas[40:260, 130:190, :3] = 255  # a thick vertical bar: a "1"
    result = preprocess(canvas)
    rows, cols = np.nonzero(result.image > 0.5)
    assert np.ptp(rows) + 1 >= 19 and np.ptp(cols) + 1 <= 8  # tall and narrow, aspect kept
    cy, cx = center_of_mass(result.image)
    assert abs(cy - 14) < 1 and abs(cx - 14) < 1


def test_dark_ink_on_light_paper_and_transparent_canvas_agree(digits):
    digit = digits[3]
    paper = 255 - np.kron(digit, np.ones((3, 3), np.uint8))
    transparent = np.zeros((84, 84, 4), np.uint8)
    transparent[..., :3] = 255
    transparent[..., 3] = np.kron(digit, np.ones((3, 3), np.uint8))
    a, b = preprocess(paper).image, preprocess(transparent).image
    assert np.abs(a - b).mean() < 0.02
    assert np.abs(a - digit / 255.0).mean() < 0.08


def test_empty_and_nearly_empty_images_are_no_digit():
    assert preprocess(np.zeros((200, 200), np.uint8)) is None
    assert preprocess(np.full((200, 200), 255, np.uint8)) is None  # blank light paper
    dot = np.zeros((200, 200, 4), np.uint8)
    dot[100:102, 100:102] = 255
    assert preprocess(dot) is None


def test_random_strokes_never_crash():
    rng = np.random.default_rng(0)
    for trial in range(200):
        size = int(rng.integers(20, 300))
        canvas = np.zeros((size, size, 4), np.uint8)
        for _ in range(int(rng.integers(0, 6))):
            y, x = rng.integers(0, size, 2)
            h, w = rng.integers(1, size // 2 + 2, 2)
            canvas[y:y + h, x:x + w] = rng.integers(0, 256, 4)
        result = preprocess(canvas)
        if result is not None:
            assert result.tensor.shape == (1, 1, 28, 28)
            assert np.isfinite(result.image).all() and 0 <= result.image.min() <= result.image.max() <= 1
