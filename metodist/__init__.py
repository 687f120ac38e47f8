"""Metodist: the management model of methodological support of education quality, as a product."""

__version__ = "0.1.0"
