"""Prefect flows: each reads as the list of the process's steps, in order."""

from duban.lifetime import die_with_serve

die_with_serve()  # a run's process, when `duban serve` started it, ends with serve
