"""The "Why?" view shared by Draw and Evaluate: saliency, Grad-CAM, feature maps and kernels."""
from __future__ import annotations

import numpy as np
import streamlit as st

from .pictures import overlay, tile, upscale


def explanation(model, image: np.ndarray, tensor, key: str) -> None:
    """Saliency and Grad-CAM over a 28x28 input (`image` in [0, 1], `tensor` normalized for the
    model), then the feature maps of every conv layer and one channel's kernels."""
    from mnist_core.analysis.explain import explain, kernels

    result = explain(model, tensor)
    a, b, c = st.columns(3)
    a.image(upscale(image, 8), caption="Input (28×28)", width="stretch")
    b.image(overlay(image, result.saliency.numpy()), width="stretch",
            caption="Saliency: pixels whose change moves the answer most")
    c.image(overlay(image, result.gradcam.numpy()), width="stretch",
            caption=f"Grad-CAM on {result.gradcam_layer}: where the evidence for {result.prediction} is")
    st.markdown("**Feature maps** (each channel scaled on its own; bright = strongly active)")
    for index, maps in enumerate(result.feature_maps):
        st.image(tile(maps.maps.numpy(), columns=16), width="content",
                 caption=f"conv {index + 1}: {maps.layer}, {maps.channels} channels of "
                         f"{maps.maps.shape[1]}×{maps.maps.shape[2]}")
    left, right = st.columns(2)
    layers = [maps.layer for maps in result.feature_maps]
    layer = left.selectbox("Kernels of layer", layers, key=f"kernel_layer_{key}")
    channels = next(maps.channels for maps in result.feature_maps if maps.layer == layer)
    channel = right.number_input("channel", 0, channels - 1, 0, key=f"kernel_channel_{key}")
    weights = kernels(model, layer, int(channel)).numpy()  # (in_channels, k, k)
    st.image(tile(weights, columns=16, factor=12), width="content",
             caption=f"{layer}, channel {channel}: its {weights.shape[0]} kernels of "
                     f"{weights.shape[1]}×{weights.shape[2]} (one per input channel)")
