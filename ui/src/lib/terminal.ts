//! Bytes of terminal output cross as base64 (TerminalOutput.data): xterm.js takes them as a
//! Uint8Array, so UTF-8 sequences split across two messages still decode right.

export function decodeBase64(data: string): Uint8Array {
  const bin = atob(data);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
