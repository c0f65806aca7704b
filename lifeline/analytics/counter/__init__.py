"""COUNTER Release 5.0 / 5.1 reports: the Code of Practice tables, dates and parsers."""
