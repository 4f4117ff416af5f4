"""The `duban` commands that have no package of their own, one module per command group (as the portal's
routes are in duban/web/routes/); duban/cli.py names every command in COMMANDS and imports its module
when that command runs.

A module here imports click and duban.cli_common at the top, nothing heavier: `duban --help` loads them
all. What a command needs (the database, Prefect, WeasyPrint, openpyxl, uvicorn) is imported inside it.
"""
