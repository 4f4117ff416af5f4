"""Telling people things: every message is rendered from a template and queued in the outbox."""
