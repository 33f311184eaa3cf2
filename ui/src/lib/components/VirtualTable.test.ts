import { render } from '@testing-library/svelte';
import { tick } from 'svelte';
import { describe, expect, it } from 'vitest';
import VirtualHarness from '../testing/VirtualHarness.svelte';

function rows(container: HTMLElement) {
  return [...container.querySelectorAll<HTMLElement>('[data-testid=row]')].map((r) => Number(r.dataset.n));
}

describe('VirtualTable', () => {
  it('renders only a window of a long list, and follows the scroll', async () => {
    const { container, getByTestId } = render(VirtualHarness, { count: 10_000 });
    const scroller = getByTestId('table');
    // happy-dom lays nothing out (a viewport of 0 px): the window is the overscan around the top row.
    const first = rows(container);
    expect(first[0]).toBe(0);
    expect(first.length).toBeLessThan(30);

    scroller.scrollTop = 40 * 5000;
    scroller.dispatchEvent(new Event('scroll'));
    await tick();
    const later = rows(container);
    expect(later.length).toBeLessThan(30);
    expect(later).toContain(5000);
    expect(later[0]).toBeGreaterThan(4980);
    const spacer = scroller.querySelector<HTMLElement>('.spacer')!;
    expect(spacer.style.height).toBe('400000px');
  });

  it('recycles its rows: a new window updates the same elements', async () => {
    const { container, getByTestId } = render(VirtualHarness, { count: 10_000 });
    const scroller = getByTestId('table');
    const before = [...container.querySelectorAll<HTMLElement>('[data-testid=row]')];
    scroller.scrollTop = 40 * 9000;
    scroller.dispatchEvent(new Event('scroll'));
    await tick();
    const after = [...container.querySelectorAll<HTMLElement>('[data-testid=row]')];
    expect(rows(container)[0]).toBeGreaterThan(8980);
    // (at the top the window has no overscan above: it grows, the elements it had stay)
    expect(after.length).toBeGreaterThanOrEqual(before.length);
    before.forEach((row, i) => expect(after[i], `row ${i} is the element it was`).toBe(row));
  });

  it('shows the empty state for no rows', () => {
    const { getByTestId, container } = render(VirtualHarness, { count: 0 });
    expect(getByTestId('empty').textContent).toBe('Nothing');
    expect(rows(container)).toEqual([]);
  });
});
