"""Background jobs (Huey): imports and analysis runs started from the browser, with progress."""
