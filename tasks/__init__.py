"""Prefect tasks: thin wrappers that give the engine retries and state over duban's plain functions."""
