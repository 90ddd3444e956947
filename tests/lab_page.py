"""A notebook in a real JupyterLab in Chromium, for the browser tests: a fresh server and
a page on it (:func:`lab_page`), and a notebook opened and run to the end, failing on any
error output (:func:`run_all`). The waits follow the flakes seen on these machines: run all
cells only once the notebook's context, session and kernel are ready and the kernel is
idle, and never await the run command's promise."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from browser_check import CHROMIUM, FLAGS
from jupyter_server import Lab, jupyter_lab

__all__ = ["ALL_RUN", "ERRORS", "KERNEL_IDLE", "KERNEL_READY", "lab_page", "run_all"]

#: The notebook's context, session and kernel are ready: run-all before that does nothing.
KERNEL_READY = """() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session
            && w.sessionContext.session.kernel;
  return !!(k && w.context.isReady && w.sessionContext.isReady
            && k.connectionStatus === 'connected' && k.status === 'idle');
}"""
#: Every code cell has run and the kernel is idle again.
ALL_RUN = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const k = w.sessionContext.session.kernel;
  const cells = w.content.widgets.filter(c => c.model.type === 'code');
  return k.status === 'idle' && cells.every(c => c.model.executionCount !== null);
}"""
ERRORS = """() => window.jupyterapp.shell.currentWidget.content.widgets
  .filter(c => c.model.type === 'code')
  .flatMap(c => c.model.outputs.toJSON())
  .filter(o => o.output_type === 'error')
  .map(o => o.ename + ': ' + o.evalue)"""
KERNEL_IDLE = ("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
               ".status === 'idle'")


@contextmanager
def lab_page(root: Path, work: Path, *, width: int = 1400,
             height: int = 1200) -> Iterator[tuple[Lab, Any]]:
    """A JupyterLab serving ``root`` (its files under ``work``) and a Chromium page."""
    from playwright.sync_api import sync_playwright

    with jupyter_lab(root, work) as lab, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=list(FLAGS))
        try:
            page = browser.new_context(viewport={"width": width, "height": height}).new_page()
            page.set_default_timeout(60_000)
            yield lab, page
        finally:
            browser.close()


def run_all(page: Any, lab: Lab, notebook: str, *, timeout_ms: int = 180_000) -> None:
    """Open ``notebook``, wait for its kernel, run every cell; no cell may show an error."""
    page.goto(lab.page(notebook))
    page.wait_for_function(KERNEL_READY, timeout=90_000)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.wait_for_function(ALL_RUN, timeout=timeout_ms, polling=250)
    assert page.evaluate(ERRORS) == [], lab.log_tail()
