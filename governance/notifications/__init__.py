"""Notifications: release events become outbox rows and signed webhook deliveries."""
