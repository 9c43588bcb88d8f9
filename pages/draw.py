"""Draw a digit: the chosen iteration's answer (or "Not sure"), every iteration's probabilities, and
why — saliency, Grad-CAM and the feature maps of every conv layer."""
import streamlit as st

import app_ui as ui

# Tests, the Evaluate page's "Open in Draw" and anyone scripting the page may put an RGBA array
# here instead of drawing.
INJECTED = "draw_injected_image"


def canvas_image():
    """The drawing as RGBA, sent the moment the pen lifts (app_ui.draw_pad). One stable key keeps
    the pad mounted across reruns, so strokes drawn while the page updates are never lost."""
    from app_ui.draw_pad import draw_pad  # light: no torch

    return draw_pad(key="canvas", stroke_width=st.session_state.get("draw_stroke", 20),
                    on_change=lambda: st.session_state.pop(INJECTED, None))


def answer(chosen: dict, verdict) -> None:
    """The big readout: the digit, or "Not sure" with the reason."""
    if verdict.uncertain:
        st.metric(f"Prediction ({chosen['model']})", "Not sure",
                  f"best guess {chosen['prediction']} at {100 * chosen['confidence']:.0f}%",
                  delta_color="off", delta_arrow="off")
        st.warning(f"Probably not a digit, or not one it can read: {verdict.reason}.", icon=":material/help:")
    else:
        st.metric(f"Prediction ({chosen['model']})", str(chosen["prediction"]),
                  f"{100 * chosen['confidence']:.1f}% confident", delta_color="off", delta_arrow="off")
    top3 = sorted(range(10), key=lambda digit: -chosen["probabilities"][digit])[:3]
    st.markdown(" · ".join(f"**{digit}** {100 * chosen['probabilities'][digit]:.1f}%" for digit in top3))


def iterations_table(rows: list[dict], records: dict) -> None:
    st.subheader("Every iteration on your digit")
    order = [key for key in sorted(records, key=lambda key: ui.iteration_order(records[key]))
             if any(row["model"] == key for row in rows)]
    answers = {row["model"]: row["prediction"] for row in rows}
    if len(set(answers.values())) > 1:
        groups = {}
        for model in order:
            groups.setdefault(answers[model], []).append(records[model].title)
        st.info("The iterations disagree: " + "; ".join(
            f"{', '.join(models)} read **{digit}**" for digit, models in groups.items()), icon=":material/call_split:")
    st.html(ui.probabilities_table(rows, order, {key: records[key].title for key in order}))


@st.fragment
def drawing() -> None:
    """Canvas and readout rerun alone on pen-up: the rest of the page stays, strokes are kept. The
    canvas is drawn before anything imports torch or loads a model, so it is usable at once."""
    left, right = st.columns([1, 1], gap="medium")
    with left:
        st.caption("White ink on black, like MNIST: draw one digit, lift the pen, read the answer.")
        image = canvas_image()
        if INJECTED in st.session_state:
            st.info(f"Showing {st.session_state.get('draw_injected_label', 'an injected image')} instead of your "
                    f"drawing.", icon=":material/image:")
            st.button("Back to my drawing", on_click=lambda: st.session_state.pop(INJECTED, None))
    ui.wait_for_imports(first_only=True)  # after the pad: torch and what this page needs (app_ui.warmup)
    from mnist_core.analysis.predict import check_state, classify_with_models, verdict

    records = ui.checkpoint_records()
    models = ui.loadable_models(records)
    if not models:
        right.warning("No loadable checkpoints in checkpoints/. Train one: `python -m mnist_core pretrain`.")
        return
    image = st.session_state.get(INJECTED, image)
    readers = ui.readout_models(records, models)  # onnxruntime where exported (docs/export.md), else torch
    prepared, rows = (None, []) if image is None else classify_with_models(readers, image)
    keys = list(models)
    ui.restore_from_url("draw_model", keys)  # ?draw_model=frontier opens on that model
    chosen_key = st.session_state.get("draw_model", keys[0])
    chosen_key = chosen_key if chosen_key in models else keys[0]
    with right:
        if prepared is None:
            st.info("Draw a digit on the black square: the prediction appears when you lift the pen.")
        else:
            chosen = next(row for row in rows if row["model"] == chosen_key)
            jury = [row["prediction"] for row in rows if records[row["model"]].kind == "shipped"]
            answer(chosen, verdict(prepared, chosen["probabilities"], jury))
            if (state := check_state()) != "on":
                st.caption(f"The not-a-digit check is off ({state.removeprefix('off: ')}): only the ink, "
                           f"confidence and agreement rule decides.")
            st.image(ui.upscale(prepared.image, 4), caption="What the model sees (28×28)")
    with st.expander("Settings: stroke width, model"):
        st.slider("Stroke width", 8, 40, 20, key="draw_stroke", help="MNIST strokes are about 2-3 px of 28")
        st.selectbox("Model", keys, key="draw_model", format_func=ui.record_label(records),
                     help="Default: the best shipped model (kept in the page's URL, to share)")
    ui.keep_in_url("draw_model", st.session_state.get("draw_model") if st.session_state.get("draw_model") != keys[0]
                   else None)
    if prepared is None:
        return
    iterations_table(rows, records)
    if st.toggle("Why? Saliency, Grad-CAM and feature maps", key="draw_explain"):
        ui.explanation(models[chosen_key], prepared.image, prepared.tensor, chosen_key)


def render() -> None:
    st.title("Draw a digit")
    drawing()


render()
