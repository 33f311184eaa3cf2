//! Push progress as the dialog shows it: one entry per layer (see `layers`), folded from PushEvents, and the
//! destination a user typed checked before it is sent.

import type { PushEvent } from '../bindings/PushEvent';
import { bytesFraction, listLayers, updateLayer, type LayerProgress } from './layers';

export type PushPhase = Extract<PushEvent, { type: 'layer' }>['phase'] | 'waiting';

export type PushLayer = LayerProgress<PushPhase>;

export interface PushProgress {
  layers: PushLayer[];
  config: string | null;
  /** The manifest digest, once written: the push is complete. */
  manifest: string | null;
}

export function emptyPush(): PushProgress {
  return { layers: [], config: null, manifest: null };
}

/** The progress after `event` (a new object; layers keep the manifest's order). */
export function applyPushEvent(progress: PushProgress, event: PushEvent): PushProgress {
  switch (event.type) {
    case 'started':
      return { ...progress, layers: listLayers(progress.layers, event.layers) };
    case 'layer': {
      const entry: PushLayer = { digest: event.digest, phase: event.phase, current: event.current, total: event.total };
      return { ...progress, layers: updateLayer(progress.layers, entry) };
    }
    case 'config':
      return { ...progress, config: event.digest };
    case 'manifest':
      return { ...progress, manifest: event.digest };
  }
}

/** 0..1 for a progress bar. */
export function pushFraction(layer: PushLayer): number {
  switch (layer.phase) {
    case 'waiting':
      return 0;
    case 'uploading':
      return bytesFraction(layer);
    default:
      return 1;
  }
}

export function pushPhaseLabel(phase: PushPhase): string {
  switch (phase) {
    case 'waiting':
      return 'Waiting';
    case 'uploading':
      return 'Uploading';
    case 'done':
      return 'Pushed';
    case 'exists':
      return 'Already there';
    case 'mounted':
      return 'Mounted';
  }
}

/** An error for a destination the engine would refuse for its form, or null. */
export function destinationError(destination: string): string | null {
  const d = destination.trim();
  if (d === '') return 'enter a destination, for example registry.example.com/team/app:1';
  if (/\s/.test(d)) return 'a destination has no spaces';
  if ((d.startsWith('dir:') && d.length === 4) || (d.startsWith('oci:') && d.length === 4)) {
    return `${d} needs a path after the colon`;
  }
  return null;
}
