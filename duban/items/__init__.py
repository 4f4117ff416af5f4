"""One item (问题) of the ledger: close-out (closeout), its rectification plan (rectification), how it is
shown (view), what its audit log tells (log), the item list's search (search), and its evidence files
(evidence)."""
