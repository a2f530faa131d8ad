"""Releases: cut on every change of what a product is made of, moved through one state machine."""
