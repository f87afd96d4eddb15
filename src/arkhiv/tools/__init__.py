"""The only place that runs external programs: one wrapper module per program."""
