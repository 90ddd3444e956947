"""Measurements spread over a Dask cluster, and the ``parallel`` tier.

- :mod:`.address`: which scheduler (``--cluster``, ``[tool.workbench] cluster``,
  ``DASK_SCHEDULER_ADDRESS``), validated.
- :mod:`.connect`: a connected :class:`~.connect.Cluster` (or a local one, ``local:N``).
- :mod:`.sites`: where one group of jobs runs: this machine, or one node of the cluster.
- :mod:`.fanout`: groups of jobs spread over the nodes, one group per node at a time,
  re-run elsewhere when a node is lost.
- :mod:`.node_tasks`: what runs on a node (a fresh measurement worker, a notebook).
- :mod:`.parallel`: a stage variant that maps a function over partitions with Dask.

Dask (``distributed``) is a core dependency; nothing here imports it until it is used.
"""
