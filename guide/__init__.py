"""Front desk (layer 2): visits, triage, membership cards, exam orders and charges.
See docs/architecture.md."""
