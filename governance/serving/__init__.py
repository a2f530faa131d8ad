"""After go-live: what a running product fetches (its live release, attested), and the stop button."""
