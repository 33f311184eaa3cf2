//! Bytes of terminal output cross as base64 (TerminalOutput.data): xterm.js takes them as a
//! Uint8Array, so UTF-8 sequences split across two messages still decode right.

export function decodeBase64(data: string): Uint8Array {
  const bin = atob(data);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Keystrokes to terminal_input one request at a time, in order: separate requests can overtake
 * each other (HTTP has no order between them), so what is typed while one is in flight is
 * joined and sent when it returns.
 */
export class InputQueue {
  private pending = '';
  private sending = false;

  constructor(private readonly send: (data: string) => Promise<unknown>) {}

  push(data: string): void {
    this.pending += data;
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.pending !== '') {
        const data = this.pending;
        this.pending = '';
        try {
          await this.send(data);
        } catch {
          // The session ended: what was typed has nowhere to go.
        }
      }
    } finally {
      this.sending = false;
    }
  }
}
