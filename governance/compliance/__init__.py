"""HR compliance: classification from the declared use, obligations as release gates, lint, editorial changes."""
