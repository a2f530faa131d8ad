"""Production feedback: what the running product's users said about a release, the KPIs it adds up to, and the
policy's limits on them."""
