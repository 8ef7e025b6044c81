"""Follow-up (layer 3): care plans, return-visit calls, surveys and reminder scheduling.
See docs/architecture.md."""
