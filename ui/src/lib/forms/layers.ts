//! Per-layer progress as the pull and push dialogs show it: the layers a manifest lists, in its
//! order, each as far as the events that name it took it.

export interface LayerProgress<Phase extends string = string> {
  digest: string;
  phase: Phase;
  current: number;
  total: number;
}

/** The layers a manifest lists, in its order: each as far as events already took it, else waiting. */
export function listLayers<P extends string>(
  known: LayerProgress<P>[],
  listed: { digest: string; size: number }[],
): LayerProgress<P | 'waiting'>[] {
  return listed.map((l) => known.find((p) => p.digest === l.digest) ?? { digest: l.digest, phase: 'waiting', current: 0, total: l.size });
}

/** `layers` with `entry` in place of the layer of its digest (after them when it is new). */
export function updateLayer<L extends { digest: string }>(layers: L[], entry: L): L[] {
  const i = layers.findIndex((l) => l.digest === entry.digest);
  return i < 0 ? [...layers, entry] : layers.map((l, j) => (j === i ? entry : l));
}

/** 0..1: the bytes of a layer moved so far. */
export function bytesFraction(layer: LayerProgress): number {
  return layer.total > 0 ? Math.min(1, layer.current / layer.total) : 0;
}

/** A digest's first 12 hex digits. */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** The registry an image reference (or a `docker://` destination) names, if it names one. */
export function registryOf(reference: string): string | null {
  const ref = reference.replace(/^docker:\/\//, '');
  const first = ref.split('/')[0];
  return ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : null;
}
