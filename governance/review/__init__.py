"""Review: the owner's sign-off, reviewers' decisions, go-live and re-runs, by one table of rules."""
