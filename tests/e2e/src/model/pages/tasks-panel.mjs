// The status bar's Tasks button and its panel: every pull, build and compose run the UI
// started, with its progress, state, elapsed time and Cancel.

export class TasksPanel {
  /** @param {import('playwright-core').Page} page */
  constructor(page) {
    this.page = page;
    this.button = page.getByTestId('tasks-button');
    this.count = page.getByTestId('tasks-count');
    this.root = page.getByTestId('tasks-panel');
    this.clearButton = this.root.getByTestId('tasks-clear');
  }

  async open() {
    if (!(await this.root.isVisible())) await this.button.click();
    await this.root.waitFor();
    return this;
  }

  async close() {
    if (await this.root.isVisible()) await this.button.click();
    await this.root.waitFor({ state: 'detached' });
  }

  /** The task named `name` (`Pull REF`, `Build NAME`, …); the newest when there are several. */
  task(name) {
    const row = this.root.locator(`[data-testid="task"][data-name="${name}"]`).first();
    return {
      row,
      state: () => row.getAttribute('data-state'),
      progress: row.getByTestId('task-progress'),
      elapsed: row.getByTestId('task-elapsed'),
      error: row.getByTestId('task-error'),
      cancel: row.getByTestId('task-cancel'),
      /** Waits until the task is in `state` (running, done, failed, cancelled). */
      waitForState: (state, timeout = 30_000) => row.and(this.page.locator(`[data-state="${state}"]`)).waitFor({ timeout }),
    };
  }
}
