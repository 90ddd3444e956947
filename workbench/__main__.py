"""``python -m workbench``: the ``workbench`` command line, for environments without the script."""

from workbench.cli import main

raise SystemExit(main())
