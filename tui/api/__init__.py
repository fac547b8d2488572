"""The Clanforge image-diff API: URLs and their checks, the httpx client, typed errors."""
