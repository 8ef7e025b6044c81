"""The hospital directory (departments, experts, clinic sessions, prices, channels, knowledge
articles): services, selectors, admin and the knowledge desk. Models live in
zhongdu/models/directory.py."""
