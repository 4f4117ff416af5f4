"""Prefect flows: each reads as the list of the process's steps, in order."""
