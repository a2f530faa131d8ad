"""Steward's domain: products, versioned components, links, releases, policies and the audit trail."""
