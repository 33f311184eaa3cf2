//! Engine events are invalidations: they say "containers changed", never carry the new state.
//! `EngineEvents` subscribes to the backend at once but holds events back until the app says it
//! is ready (mounted), so nothing that happens during start-up is lost or handled half-built.

import type { Backend } from '../backend/backend';
import type { EngineEvent } from '../bindings/EngineEvent';

export type EventKind = EngineEvent['kind'];

export class EngineEvents {
  private ready = false;
  private queued: EngineEvent[] = [];
  private readonly listeners = new Set<(event: EngineEvent) => void>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly backend: Pick<Backend, 'onEngineEvent'>) {}

  /** Starts listening to the backend; events are queued until `markReady`. */
  connect(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.backend.onEngineEvent((event) => {
      if (this.ready) this.dispatch(event);
      else this.queued.push(event);
    });
  }

  /** Delivers the queued events, then every later one as it comes. */
  markReady(): void {
    if (this.ready) return;
    this.ready = true;
    const queued = this.queued;
    this.queued = [];
    queued.forEach((event) => this.dispatch(event));
  }

  get pending(): number {
    return this.queued.length;
  }

  on(listener: (event: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  disconnect(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private dispatch(event: EngineEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}
