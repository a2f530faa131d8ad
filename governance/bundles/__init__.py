"""Bundles: a product and everything that shapes it, planned and applied as one change (``steward apply``)."""
