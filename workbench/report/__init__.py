"""Reports: the report notebooks run by papermill into a reports folder (``workbench report``).

- :mod:`.runner`: plan (notebooks, parameters, workload checked before anything runs),
  execute each notebook in its own kernel, export it to offline HTML, exit code;
- :mod:`.params`: a notebook's declared parameters and ``-p KEY=VALUE``;
- :mod:`.summary`: ``summary.json``, read from the result records the notebooks showed;
- :mod:`.pages`: each run's ``index.html`` and the folder's ``index.html`` with trends;
- :mod:`.choices` and :mod:`.shares`: the two results only reports show (the suggested
  and decided variant per stage; each stage's share of the pipeline's time);
- ``notebooks/``: the built-in report notebooks (compare, profile, budgets, decisions).
"""
