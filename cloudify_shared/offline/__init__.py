"""Running this suite's blueprints without a manager or internet: the minimal types file and
the import resolver that maps the official types URL and `plugin:` imports onto local files."""
