"""Supervision campaigns (专项督导): started by the Office, answered by the units, closed by a bulletin."""
