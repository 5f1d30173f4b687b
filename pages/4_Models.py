"""Models: train and compare models as a background job, evaluate them, predict with them."""

import streamlit as st

from ui.layout import page_setup
from ui.ml_view import render

page_setup("Models", "🤖")
st.title("Models")
st.caption("Cross-validated comparison of scikit-learn and XGBoost models, and deep-learning networks in PyTorch or "
           "TensorFlow; the best is kept for prediction.")
render()
