"""Consultation desk: enquiries and bookings (layer 2). See docs/architecture.md."""
