"""The FuncPipe RAG reference pipeline: clean -> chunk -> embed -> retrieve.

Each stage has ``pure``, ``vectorized`` and ``native`` variants behind one signature.
Build the pipeline with :func:`workbench.rag.reference.reference_pipeline`; named inputs
are in :mod:`workbench.rag.workloads`.
"""
