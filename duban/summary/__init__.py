"""The year-end report (年度工作情况报告) to the leadership group: figures, sections, issue."""
