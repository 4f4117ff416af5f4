"""The `duban` commands that have no package of their own, one module per command group (as the portal's
routes are in duban/web/routes/); duban/cli.py puts them together.

Each module imports only click and duban.cli_common at the top: `duban --help` loads every module here,
so what a command needs (the database, Prefect, WeasyPrint, openpyxl, uvicorn) is imported inside it.
"""
