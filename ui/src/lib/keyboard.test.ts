import { describe, expect, it } from 'vitest';
import { followCursor, globalShortcut, isTextTarget, moveCursor, rowAction } from './keyboard';

const key = (k: string, over: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean; shiftKey: boolean }> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...over,
});

describe('keyboard', () => {
  it('maps Ctrl/Cmd+1/2/3/4/5 and Ctrl+, to panes, anywhere', () => {
    expect(globalShortcut(key('1', { ctrlKey: true }), true)).toEqual({ kind: 'pane', pane: 'containers' });
    expect(globalShortcut(key('2', { metaKey: true }), false)).toEqual({ kind: 'pane', pane: 'images' });
    expect(globalShortcut(key('3', { ctrlKey: true }), false)).toEqual({ kind: 'pane', pane: 'volumes' });
    expect(globalShortcut(key('4', { ctrlKey: true }), false)).toEqual({ kind: 'pane', pane: 'networks' });
    expect(globalShortcut(key('5', { ctrlKey: true }), false)).toEqual({ kind: 'pane', pane: 'pods' });
    expect(globalShortcut(key('6', { ctrlKey: true }), false)).toBeNull();
    expect(globalShortcut(key(',', { ctrlKey: true }), false)).toEqual({ kind: 'pane', pane: 'settings' });
    expect(globalShortcut(key('0', { ctrlKey: true }), true)).toEqual({ kind: 'pane', pane: 'dashboard' });
    expect(globalShortcut(key('k', { ctrlKey: true }), true)).toEqual({ kind: 'palette' });
    expect(globalShortcut(key('K', { metaKey: true }), false)).toEqual({ kind: 'palette' });
    expect(globalShortcut(key('k'), false)).toBeNull();
    expect(globalShortcut(key('1', { ctrlKey: true, shiftKey: true }), false)).toBeNull();
    expect(globalShortcut(key('1'), false)).toBeNull();
  });

  it('focuses search on / unless typing', () => {
    expect(globalShortcut(key('/'), false)).toEqual({ kind: 'search' });
    expect(globalShortcut(key('/'), true)).toBeNull();
    expect(globalShortcut(key('/', { ctrlKey: true }), false)).toBeNull();
  });

  it('knows where typing happens', () => {
    const input = document.createElement('input');
    const box = document.createElement('input');
    box.type = 'checkbox';
    const term = document.createElement('div');
    term.className = 'xterm';
    const inner = document.createElement('textarea');
    term.append(inner);
    expect(isTextTarget(input)).toBe(true);
    expect(isTextTarget(box)).toBe(false);
    expect(isTextTarget(inner)).toBe(true);
    expect(isTextTarget(document.createElement('button'))).toBe(false);
    expect(isTextTarget(null)).toBe(false);
  });

  it('moves the row cursor within bounds', () => {
    expect(moveCursor(-1, 5, 'ArrowDown', 10)).toBe(0);
    expect(moveCursor(-1, 5, 'ArrowUp', 10)).toBe(0);
    expect(moveCursor(2, 5, 'ArrowDown', 10)).toBe(3);
    expect(moveCursor(4, 5, 'ArrowDown', 10)).toBe(4);
    expect(moveCursor(0, 5, 'ArrowUp', 10)).toBe(0);
    expect(moveCursor(1, 50, 'PageDown', 10)).toBe(11);
    expect(moveCursor(45, 50, 'PageDown', 10)).toBe(49);
    expect(moveCursor(5, 50, 'PageUp', 10)).toBe(0);
    expect(moveCursor(9, 50, 'Home', 10)).toBe(0);
    expect(moveCursor(9, 50, 'End', 10)).toBe(49);
    expect(moveCursor(70, 50, 'ArrowUp', 10)).toBe(48);
    expect(moveCursor(0, 0, 'ArrowDown', 10)).toBeNull();
    expect(moveCursor(0, 5, 'x', 10)).toBeNull();
  });

  it('maps Enter, Delete and Space on a row, not with modifiers', () => {
    expect(rowAction(key('Enter'))).toBe('open');
    expect(rowAction(key('Delete'))).toBe('remove');
    expect(rowAction(key(' '))).toBe('toggle');
    expect(rowAction(key('Delete', { ctrlKey: true }))).toBeNull();
    expect(rowAction(key('a'))).toBeNull();
  });

  it('keeps the cursor on its item when the list changes', () => {
    const id = (s: string) => s;
    expect(followCursor(['a', 'b', 'c'], ['x', 'b', 'c'], 1, id)).toBe(1);
    expect(followCursor(['a', 'b', 'c'], ['c', 'a', 'b'], 1, id)).toBe(2);
    expect(followCursor(['a', 'b', 'c'], ['a'], 2, id)).toBe(0);
    expect(followCursor(['a'], [], 0, id)).toBe(-1);
    expect(followCursor(['a'], ['a'], -1, id)).toBe(-1);
  });
});
