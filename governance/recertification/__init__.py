"""Re-certification: re-running a live release's suites on schedule while nothing in Steward changes."""
