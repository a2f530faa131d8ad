"""Products and their versioned components (prompts, suites, documents, processes), links, impact and history."""
