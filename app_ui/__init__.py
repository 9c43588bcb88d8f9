"""The app's shared UI helpers, one module per concern; pages import this package as `ui`.

routing      deep links through the router, the sidebar on phones
loaders      cached models, dataset and per-checkpoint results (st.cache_*)
charts       Altair charts; colours: stable model colours and the iteration order
pictures     digits as pictures; explanation: the "Why?" view
train_form, run_manager, builder, queue_panel, live_view, preview: the Train page's parts

Importing the package runs the deep-link reroute first (the router and every page import it).
"""
from .charts import (
                     DIGITS,
                     SPLIT_COLOURS,
                     SPLIT_NAMES,
                     batch_loss_chart,
                     confusion_chart,
                     curves_chart,
                     history_frame,
                     live_curves_chart,
                     lr_chart,
                     metric_scale,
                     probabilities_heatmap,
                     probability_chart,
)
from .colours import PALETTE, colour_scale, iteration_order, model_colour
from .explanation import explanation
from .loaders import (
                     cached_evaluation,
                     cached_logits,
                     cached_mnist,
                     cached_model,
                     cached_robustness,
                     cached_test_images,
                     checkpoint_records,
                     evaluation_of,
                     loadable_models,
                     logits_of,
                     model_from,
                     queue_runs,
                     record_label,
                     robustness_of,
                     show_problems,
                     start_training,
                     test_labels,
                     weights_key,
)
from .pictures import canvas_from_digit, heat_colours, image_grid, overlay, sample_grid_image, tile, to_unit, upscale
from .routing import collapse_sidebar_on_phones, send_deep_links_through_router

send_deep_links_through_router()
