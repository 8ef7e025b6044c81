"""VIP: VIP policy, status and enterprises (layer 3). See docs/architecture.md."""
