"""The augmentation preview: 16 training digits as the form's recipe transforms them.
"""
from __future__ import annotations

import json

import streamlit as st

from mnist_core.data.augment import preview
from mnist_core.data.mnist import DatasetError, train_images_head
from mnist_core.training.config import TrainConfig

from . import pictures


@st.cache_data(show_spinner=False, max_entries=16)
def preview_pictures(config_json: str, seed: int):
    """(the 16 digits, as augmented) as two pictures, once per recipe and sample seed: the page
    draws the preview on every run, open or not."""
    config = TrainConfig.from_dict(json.loads(config_json))
    originals, augmented = preview(train_images_head(16), config, seed)
    return (pictures.tile(pictures.to_unit(originals), columns=16, factor=3),
            pictures.tile(pictures.to_unit(augmented), columns=16, factor=3))


def augmentation_preview(config: TrainConfig | None) -> None:
    with st.expander("Augmentation preview: 16 training digits as this recipe transforms them"):
        if config is None:
            st.caption("Fix the settings above first.")
            return
        left, right = st.columns([4, 1], vertical_alignment="center")
        if right.button("New sample", icon=":material/casino:", key="new_sample"):
            st.session_state.preview_seed = st.session_state.get("preview_seed", 0) + 1
        try:
            originals, augmented = preview_pictures(json.dumps(config.to_dict(), sort_keys=True),
                                                    st.session_state.get("preview_seed", 0))
        except DatasetError as error:
            st.error(str(error))
            return
        left.caption(
            f"Rotation ±{config.rotation:g}°, shift ±{100 * config.translate:g}%, zoom ±{100 * config.scale:g}%, "
            f"centre crop to {config.center_crop_size} px with probability {config.center_crop_prob:g} "
            f"(a new random draw for every image in every batch)."
        )
        st.image(originals, caption="The training digits")
        st.image(augmented, caption="As the recipe augments them")
