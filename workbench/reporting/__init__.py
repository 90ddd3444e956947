"""Reports: the report notebooks run by papermill into a reports folder (``workbench
report``). Core: the command line and the report notebooks reach it through
:mod:`workbench.app.reporting`.

- :mod:`.plan`: the notebooks, their parameters and the workload, checked before anything
  runs; a notebook's outcome and the run's exit code;
- :mod:`.runner`: each notebook executed in its own kernel (here, or on a cluster node),
  exported to offline HTML;
- :mod:`.params`: a notebook's declared parameters and ``-p KEY=VALUE``;
- :mod:`.summary`: ``summary.json``, read from the result records the notebooks showed;
- :mod:`.pages`: each run's ``index.html`` and the folder's ``index.html`` with trends
  (drawn by :mod:`workbench.render.report_pages`);
- :mod:`.choices` and :mod:`.shares`: the two results only reports show (the suggested
  and decided variant per stage; each stage's share of the pipeline's time).

The built-in report notebooks are package data of the report front end
(``workbench/report/notebooks/``).
"""
