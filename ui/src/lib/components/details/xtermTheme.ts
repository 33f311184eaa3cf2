//! One dark palette for the logs viewer and the terminal (ANSI colours as GitHub's dark theme).

export const XTERM_THEME = {
  background: '#0f1115',
  foreground: '#d7dae0',
  cursor: '#d7dae0',
  selectionBackground: '#3a4a6b',
  black: '#484f58',
  red: '#ff7b72',
  green: '#3fb950',
  yellow: '#d29922',
  blue: '#58a6ff',
  magenta: '#bc8cff',
  cyan: '#39c5cf',
  white: '#b1bac4',
  brightBlack: '#6e7681',
  brightRed: '#ffa198',
  brightGreen: '#56d364',
  brightYellow: '#e3b341',
  brightBlue: '#79c0ff',
  brightMagenta: '#d2a8ff',
  brightCyan: '#56d4dd',
  brightWhite: '#f0f6fc',
};
