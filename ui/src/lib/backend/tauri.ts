//! The Backend inside the Tauri app: commands through `invoke`, pull, push and build progress,
//! log batches and terminal output on a `Channel`,
//! state invalidations from the global `engine-event`. The only module that imports Tauri.

import { Channel, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { EngineEvent } from '../bindings/EngineEvent';
import { commandMethods, type Backend, type OpenChannel } from './backend';
import { ApiError } from './errors';

async function call(command: string, args: Record<string, unknown>): Promise<unknown> {
  try {
    return await invoke(command, args);
  } catch (e) {
    throw ApiError.from(e);
  }
}

async function openChannel<T>(onMessage: (message: T) => void): Promise<OpenChannel> {
  const channel = new Channel<T>();
  channel.onmessage = onMessage;
  return {
    arg: channel,
    close() {
      channel.onmessage = () => {};
    },
  };
}

export function tauriBackend(): Backend {
  return {
    ...commandMethods({ invoke: call, channel: openChannel }),
    onEngineEvent(cb) {
      let unlisten: (() => void) | null = null;
      let cancelled = false;
      listen<EngineEvent>('engine-event', (e) => cb(e.payload)).then((fn) => {
        if (cancelled) fn();
        else unlisten = fn;
      });
      return () => {
        cancelled = true;
        unlisten?.();
      };
    },
  };
}
