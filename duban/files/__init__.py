"""The files clerks exchange with duban: spreadsheets read and written (spreadsheet), an uploaded .xlsx
measured before it is opened (xlsx_guard), pre-filled forms (formsheet), and the paths duban builds or is
given (paths)."""
