"""`python -m search` runs the command line."""

from search.cli import main

raise SystemExit(main())
