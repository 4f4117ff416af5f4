"""duban (督办): supervise a district programme to completion."""
