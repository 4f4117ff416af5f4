"""Where the programme stands: the status on a date (status), shown in the terminal (status_view), and
`duban check`, the state each item keeps held against its audit log (check)."""
