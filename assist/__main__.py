"""`python -m assist` is the `assist` command."""

from assist.cli import main

raise SystemExit(main())
