"""What a front end that keeps state (the notebook's session, the panel) works on: the
project a directory belongs to, read as it is (:func:`find_project`; nothing imported,
unlike :func:`workbench.app.projects.open_project`), and the pipeline an argument names
(a ``module:function`` reference, a Pipeline, or a function returning one)."""

from __future__ import annotations

from workbench.project import Project, find_project
from workbench.refs import PipelineArg, pipeline_label, resolve_pipeline

__all__ = ["PipelineArg", "Project", "find_project", "pipeline_label", "resolve_pipeline"]
