"""Runs: one suite version against one release's manifest, split into chunks that workers lease and execute."""
