"""Backup and restore: a consistent copy of the database and of the files under DUBAN_HOME, with a
manifest of their SM3 digests (`duban backup`, `duban restore`, the scheduled `backup` flow)."""


class BackupRefused(ValueError):
    """A backup or restore duban will not do; the message (Chinese) names what is wrong."""
