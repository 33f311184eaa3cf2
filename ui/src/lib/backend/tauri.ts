//! The Backend inside the Tauri app: commands through `invoke`, pull progress on a `Channel`,
//! state invalidations from the global `engine-event`. The only module that imports Tauri.

import { Channel, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { EngineEvent } from '../bindings/EngineEvent';
import type { ImageSummary } from '../bindings/ImageSummary';
import type { PullEvent } from '../bindings/PullEvent';
import { commandMethods, type Backend } from './backend';
import { ApiError } from './errors';

async function call(command: string, args: Record<string, unknown>): Promise<unknown> {
  try {
    return await invoke(command, args);
  } catch (e) {
    throw ApiError.from(e);
  }
}

export function tauriBackend(): Backend {
  return {
    ...commandMethods(call),
    pullImage(reference, onProgress) {
      const channel = new Channel<PullEvent>();
      channel.onmessage = onProgress;
      return call('pull_image', { reference, onProgress: channel }) as Promise<ImageSummary>;
    },
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
