"""Messaging (layer 1, above clientmgmt): the SMS outbox every department sends through, its
templates, send-time rules, provider webhooks, staff pages and campaigns."""
