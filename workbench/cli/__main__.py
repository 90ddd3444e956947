"""``python -m workbench.cli``: the same command as ``python -m workbench``."""

from workbench.cli import main

raise SystemExit(main())
