"""Reports: running the report notebooks under papermill, their parameters, and the pages
(index, summary) that list them. Core: the report notebooks and the CLI reach it through
:mod:`workbench.app`."""
