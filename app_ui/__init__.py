"""The app's shared UI helpers, one module per concern; pages import this package as `ui`.

routing      deep links through the router, the sidebar on phones
loaders      cached models, dataset and per-checkpoint results (st.cache_*)
charts       Altair charts; colours: stable model colours and the iteration order
pictures     digits as pictures; explain_view: the "Why?" view (explanation)
export_view  Download ONNX / TorchScript and "Use this model" (Evaluate, the All runs table)
train_form, run_manager, builder, queue_panel, live_view, preview: the Train page's parts
arch_diff    the Compare page's architecture diff
sweep_view   the Compare page's Sweeps (sweep_panel: the Train page's)

`ui.name` finds `name` in whichever module defines it, once the heavy imports (warmup: torch,
mnist_core, pandas, Altair, in one background thread) are done: the router and the Draw page's
canvas do not wait for them. Importing the package starts them and runs the deep-link reroute
first (the router and every page import it).
"""
from __future__ import annotations

import importlib

from . import warmup
from .routing import collapse_sidebar_on_phones, send_deep_links_through_router

# name -> module, for the helpers the pages reach as ui.<name>
_WHERE = {
    "arch_diff": ["architecture_diff_view"],
    "charts": ["DIGITS", "SPLIT_COLOURS", "SPLIT_NAMES", "batch_loss_chart", "confusion_chart", "curves_chart",
               "history_frame", "live_curves_chart", "lr_chart", "metric_scale", "probability_chart"],
    "readout": ["probabilities_table"],
    "share": ["digit_pair", "keep_in_url", "restore_from_url", "url_values"],
    "study_view": ["study_section"],
    "sweep_view": ["sweep_section"],
    "colours": ["PALETTE", "colour_scale", "iteration_order", "model_colour"],
    "explain_view": ["explanation"],
    "export_view": ["model_downloads"],
    "loaders": ["cached_evaluation", "cached_logits", "cached_test", "cached_model", "cached_robustness",
                "cached_test_images", "checkpoint_records", "evaluation_of", "loadable_models", "logits_of",
                "model_from", "queue_runs", "readout_models", "record_label", "robustness_of", "show_problems",
                "start_training", "test_labels", "weights_key"],
    "pictures": ["canvas_from_digit", "heat_colours", "image_grid", "overlay", "sample_grid_image", "tile",
                 "to_unit", "upscale"],
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'app_ui' has no attribute {name!r}")
    warmup.wait(first_only=_MODULE_OF[name] in warmup.FIRST_UI)  # one importing thread (see warmup)
    value = getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_MODULE_OF])


__all__ = ["collapse_sidebar_on_phones", "send_deep_links_through_router", "wait_for_imports", *_MODULE_OF]
wait_for_imports = warmup.wait

warmup.start()
send_deep_links_through_router()
