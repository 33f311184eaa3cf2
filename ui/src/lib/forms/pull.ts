//! Pull progress as the dialog shows it: one entry per layer (see `layers`), folded from PullEvents.

import type { PullEvent } from '../bindings/PullEvent';
import { bytesFraction, listLayers, updateLayer, type LayerProgress as Layer } from './layers';

type LayerPhase = Extract<PullEvent, { type: 'layer' }>['phase'];

export type LayerProgress = Layer<LayerPhase>;

export interface PullProgress {
  reference: string;
  /** The id `cancelPull` takes, once the pull said it started. */
  pull: string | null;
  layers: LayerProgress[];
  imageId: string | null;
}

export function emptyProgress(reference: string): PullProgress {
  return { reference, pull: null, layers: [], imageId: null };
}

/** The progress after `event` (a new object; layers keep the order the manifest gave). */
export function applyPullEvent(progress: PullProgress, event: PullEvent): PullProgress {
  switch (event.type) {
    case 'started':
      return { ...progress, pull: event.pull };
    case 'resolved':
      return { ...progress, layers: listLayers(progress.layers, event.layers) };
    case 'layer': {
      const entry: LayerProgress = { digest: event.digest, phase: event.phase, current: event.current, total: event.total };
      return { ...progress, layers: updateLayer(progress.layers, entry) };
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
      return bytesFraction(layer);
    case 'verifying':
    case 'extracting':
      return layer.total > 0 && layer.current > 0 ? Math.min(1, layer.current / layer.total) : 1;
  }
}

export function phaseLabel(phase: LayerPhase): string {
  return phase === 'already_exists' ? 'already exists' : phase;
}
