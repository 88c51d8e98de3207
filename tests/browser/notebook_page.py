"""What a person does to, and sees of, one open notebook in JupyterLab 4.

The DOM this leans on (checked against JupyterLab 4.6):

    .jp-NotebookPanel                         the open notebook
      .jp-NotebookPanel-toolbar [data-command="notebook:interrupt-kernel"]
                                              the toolbar's stop button
      .jp-Notebook .jp-Cell                   one per cell, in order
        .jp-InputArea-prompt                  "[ ]:", "[*]:" while queued/running, "[3]:"
        .cm-content                           the cell's CodeMirror 6 editor
        .jp-OutputArea-output                 one per output (stream, display, result, error)
    .jp-Completer .jp-Completer-item[data-value]   the Tab completion popup
    .jp-StatusBar-TextItem[title^="Change kernel"] "kaish | Idle" / "kaish | Busy"

`state(i)` reads a cell's prompt and output text in one JavaScript call, so a
check such as "`a` is shown while the cell is still running" looks at one
instant of the page, never at two moments stitched together.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

__all__ = ["NotebookPage"]

_STATE_JS = """
(i) => {
  const cell = document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell')[i];
  if (!cell) return null;
  const prompt = cell.querySelector('.jp-InputArea-prompt');
  const outputs = [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => o.innerText);
  return {prompt: prompt ? prompt.textContent.trim() : '', output: outputs.join('\\n')};
}
"""

RUNNING = "[*]:"
FINISHED = re.compile(r"^\[\d+\]:$")


class NotebookPage:
    """Cells by index (0-based), as laid out in the notebook file."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.panel = page.locator(".jp-NotebookPanel")

    def __repr__(self) -> str:
        return f"<NotebookPage {self.page.url}>"

    # -- locators --------------------------------------------------------------------
    def cell(self, index: int) -> Locator:
        return self.panel.locator(".jp-Notebook .jp-Cell").nth(index)

    def prompt(self, index: int) -> Locator:
        return self.cell(index).locator(".jp-InputArea-prompt")

    def outputs(self, index: int) -> Locator:
        return self.cell(index).locator(".jp-OutputArea-output")

    def editor(self, index: int) -> Locator:
        return self.cell(index).locator(".cm-content")

    @property
    def kernel_status(self) -> Locator:
        return self.page.locator('.jp-StatusBar-TextItem[title^="Change kernel"]')

    @property
    def interrupt_button(self) -> Locator:
        return self.panel.locator(
            '.jp-NotebookPanel-toolbar [data-command="notebook:interrupt-kernel"]'
        )

    @property
    def completer(self) -> Locator:
        return self.page.locator(".jp-Completer")

    # -- actions ---------------------------------------------------------------------
    def wait_for_kernel_idle(self, timeout: float = 60_000) -> None:
        expect(self.kernel_status).to_have_text(re.compile(r"kaish \| Idle"), timeout=timeout)

    def focus_editor(self, index: int) -> None:
        self.editor(index).click()

    def run(self, index: int) -> None:
        """Click into the cell's editor and press Shift+Enter, as a person would."""
        self.focus_editor(index)
        self.page.keyboard.press("Shift+Enter")

    def state(self, index: int) -> dict[str, Any]:
        return dict(self.page.evaluate(_STATE_JS, index))

    def wait_for_state(
        self, index: int, condition_js: str, what: str, timeout: float = 30_000
    ) -> None:
        """Wait until `condition_js` (a JS expression over `s.prompt`, `s.output`) holds."""
        script = f"(i) => {{ const s = ({_STATE_JS})(i); return !!s && ({condition_js}); }}"
        try:
            self.page.wait_for_function(script, arg=index, polling=50, timeout=timeout)
        except Exception as error:
            raise AssertionError(
                f"cell {index}: never saw {what}; last state {self.state(index)}"
            ) from error

    def wait_finished(self, index: int, timeout: float = 30_000) -> None:
        expect(self.prompt(index)).to_have_text(FINISHED, timeout=timeout)
