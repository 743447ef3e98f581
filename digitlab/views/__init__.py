"""The Streamlit pages and UI regions of Digit Lab; only the app imports this package."""
