"""Draw a digit; every shipped model reads it, with what the model actually sees."""
import pandas as pd
import streamlit as st

import app_ui as ui
from mnist_core.predict import classify_with_models

# Tests (and anyone scripting the page) may put an RGBA array here instead of drawing.
INJECTED = "draw_injected_image"


def canvas_image(stroke_width: int):
    from streamlit_drawable_canvas import st_canvas  # raises outside a Streamlit runtime

    version = st.session_state.setdefault("canvas_version", 0)
    result = st_canvas(stroke_width=stroke_width, stroke_color="#FFFFFF", background_color="#000000",
                       height=280, width=280, drawing_mode="freedraw", return_image_data=True,
                       key=f"canvas_{version}")
    return result.image_data


def render() -> None:
    st.title("Draw a digit")
    st.caption("White ink on black, like MNIST. Every shipped iteration reads your digit.")
    records = ui.checkpoint_records()
    models = ui.loadable_models(records)
    if not models:
        st.warning("No loadable checkpoints in checkpoints/. Train one: `python -m mnist_core pretrain`.")
        return
    left, right = st.columns([1, 1], gap="large")
    with left:
        stroke = st.slider("Stroke width", 8, 40, 20, help="MNIST strokes are about 2-3 px of 28")
        image = canvas_image(stroke)
        if st.button("Clear", icon=":material/delete:"):
            st.session_state.canvas_version += 1
            st.session_state.pop(INJECTED, None)
            st.rerun()
        chosen_key = st.selectbox("Model", list(models), index=0, format_func=ui.record_label(records),
                                  help="Default: the best shipped model")
    image = st.session_state.get(INJECTED, image)
    prepared, rows = (None, []) if image is None else classify_with_models(models, image)
    with right:
        if prepared is None:
            st.info("Draw a digit on the black square: the prediction appears when you lift the pen.")
            return
        chosen = next(row for row in rows if row["model"] == chosen_key)
        top, preview = st.columns([1, 1])
        top.metric(f"Prediction ({chosen_key})", str(chosen["prediction"]),
                   f"{100 * chosen['confidence']:.1f}% confident", delta_color="off", delta_arrow="off")
        preview.image(ui.upscale(prepared.image, 5), caption="What the model sees (28×28)")
        st.altair_chart(ui.probability_chart(chosen["probabilities"], chosen["prediction"]))
    st.subheader("Every iteration on your digit")
    table = pd.DataFrame([{"model": r["model"], "prediction": r["prediction"],
                           "confidence": r["confidence"]} for r in rows])
    st.dataframe(table, hide_index=True, column_config={
        "confidence": st.column_config.ProgressColumn("confidence", min_value=0.0, max_value=1.0, format="percent")})


render()
