"""Client management (layer 1): the one Client record per person, archive categories, consent
and complaints. See docs/architecture.md."""
