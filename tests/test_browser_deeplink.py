"""A fresh server whose first visitor opens a deep link (/train) gets the app's own navigation.

Until some session has called st.navigation, Streamlit runs a deep-linked page straight from
pages/ with an automatic navigation ("streamlit app", "compare", ...); app_ui turns that fallback
off and reruns, so the same URL goes through the router (checked to fail without it)."""

from browser import ARTIFACTS, streamlit_server


def test_first_visit_to_a_deep_link_uses_the_router(tmp_path, chromium):
    with streamlit_server({"MNIST_RUNS": str(tmp_path)}) as url:  # its own server: no session has visited it
        page = chromium.new_page(viewport={"width": 1300, "height": 900})
        page.goto(url + "/train")  # the very first session on this server
        page.get_by_text("Train an iteration").first.wait_for(timeout=60000)
        nav = page.locator("[data-testid='stSidebarNav']")
        nav.get_by_text("Evaluate", exact=True).wait_for(timeout=30000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "deep_link_train.png"))
        text = nav.inner_text()
        assert "streamlit app" not in text and "Draw" in text and "Compare" in text
        assert page.url.rstrip("/").endswith("/train")
        page.close()
