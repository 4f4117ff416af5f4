"""Bulletins (通报): numbered official documents assembled from the database, in Word, PDF and HTML."""
