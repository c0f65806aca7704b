"""Lifeline: keeps a university library's resource services working through an emergency."""

__version__ = "0.1.0"
