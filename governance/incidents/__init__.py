"""Serious incidents (AI Act Art. 73) recorded against a release, with the deadline to report them."""
