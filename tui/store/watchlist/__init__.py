"""The watchlist: what the user said and did, apart from what the app learned.

- :mod:`.file`: :class:`~.file.WatchlistStore`, the user's ``watchlist.toml`` and the
  status cache beside it, shared safely between instances and the command line;
- :mod:`.layout`: the file's layout (schema 3), read by ``tomllib``, written by ``tomli-w``;
- :mod:`.legacy`: files of earlier releases (schema 1 and 2), read once;
- :mod:`.status_cache`: last statuses, outcomes and times added (JSON, a cache);
- :mod:`.fields`: typed reads of their values;
- :mod:`.account`: :class:`~.account.AccountWatchlist`, one account's slice, what the app
  writes to; :mod:`.port`: the protocol the app asks for (a test seam);
- :mod:`.writes`: the app's file work, in order on one thread, off the event loop;
- :mod:`.text`: ``watchlist export`` / ``import`` text.
"""
