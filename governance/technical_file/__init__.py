"""The technical file of a release (AI Act Annex IV): assembled from what Steward holds, frozen when it goes live."""
