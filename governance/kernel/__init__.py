"""What every domain package stands on: the database base, errors, paging, canonical JSON, events, unit of work."""
