"""Platform rules for proxy-log analysis: data in `platforms/*.yaml`, code in `rules.py`
(loading, validation) and `engine.py` (host lookup, vectorised and reference classifiers)."""
