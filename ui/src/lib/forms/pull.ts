//! Pull progress as the dialog shows it: one entry per layer, folded from PullEvents.

import type { PullEvent } from '../bindings/PullEvent';

type LayerPhase = Extract<PullEvent, { type: 'layer' }>['phase'];

export interface LayerProgress {
  digest: string;
  phase: LayerPhase;
  current: number;
  total: number;
}

export interface PullProgress {
  reference: string;
  layers: LayerProgress[];
  imageId: string | null;
}

export function emptyProgress(reference: string): PullProgress {
  return { reference, layers: [], imageId: null };
}

/** The progress after `event` (a new object; layers keep the order the manifest gave). */
export function applyPullEvent(progress: PullProgress, event: PullEvent): PullProgress {
  switch (event.type) {
    case 'resolved':
      return {
        ...progress,
        layers: event.layers.map((l) => {
          const known = progress.layers.find((p) => p.digest === l.digest);
          return known ?? { digest: l.digest, phase: 'waiting', current: 0, total: l.size };
        }),
      };
    case 'layer': {
      const entry: LayerProgress = { digest: event.digest, phase: event.phase, current: event.current, total: event.total };
      const i = progress.layers.findIndex((l) => l.digest === event.digest);
      const layers = i < 0 ? [...progress.layers, entry] : progress.layers.map((l, j) => (j === i ? entry : l));
      return { ...progress, layers };
    }
    case 'done':
      return { ...progress, imageId: event.imageId };
  }
}

/** 0..1 for a progress bar: downloading by bytes; finished phases full; waiting empty. */
export function layerFraction(layer: LayerProgress): number {
  switch (layer.phase) {
    case 'done':
    case 'already_exists':
      return 1;
    case 'waiting':
      return 0;
    case 'downloading':
      return layer.total > 0 ? Math.min(1, layer.current / layer.total) : 0;
    case 'verifying':
    case 'extracting':
      return layer.total > 0 && layer.current > 0 ? Math.min(1, layer.current / layer.total) : 1;
  }
}

export function phaseLabel(phase: LayerPhase): string {
  return phase === 'already_exists' ? 'already exists' : phase;
}
