"""imagediff-tui: watch and retry Multiplay Clanforge image difference analysis jobs."""

__version__ = "0.1.0"
