//! The one seam between the UI and the engine. Components and stores talk to a `Backend`;
//! `tauri.ts` implements it over Tauri IPC inside the app, `http.ts` over `berth-desktop --serve`
//! in a plain browser. Method names mirror the contract's commands (scratch/app-contract.md).

import type { ContainerStats } from '../bindings/ContainerStats';
import type { ContainerSummary } from '../bindings/ContainerSummary';
import type { CreateRequest } from '../bindings/CreateRequest';
import type { EngineEvent } from '../bindings/EngineEvent';
import type { EngineInfo } from '../bindings/EngineInfo';
import type { ImageDetails } from '../bindings/ImageDetails';
import type { ImageSummary } from '../bindings/ImageSummary';
import type { LogLine } from '../bindings/LogLine';
import type { PullEvent } from '../bindings/PullEvent';

export type Protocol = 'tcp' | 'udp';

export interface Backend {
  engineInfo(): Promise<EngineInfo>;
  listContainers(): Promise<ContainerSummary[]>;
  containerStats(): Promise<ContainerStats[]>;
  startContainer(id: string): Promise<ContainerSummary>;
  stopContainer(id: string, timeout?: number): Promise<ContainerSummary>;
  restartContainer(id: string): Promise<ContainerSummary>;
  removeContainer(id: string, force: boolean): Promise<null>;
  inspectContainer(id: string): Promise<unknown>;
  containerLogs(id: string, tail?: number): Promise<LogLine[]>;
  listImages(): Promise<ImageSummary[]>;
  imageDetails(reference: string): Promise<ImageDetails>;
  /** Pulls `reference`; `onProgress` receives every PullEvent of this pull, in order. */
  pullImage(reference: string, onProgress: (event: PullEvent) => void): Promise<ImageSummary>;
  removeImage(id: string, force: boolean): Promise<null>;
  freePort(protocol: Protocol, preferred?: number): Promise<number>;
  createContainer(request: CreateRequest): Promise<ContainerSummary>;
  /** Subscribes to the engine's state invalidations; returns the unsubscribe function. */
  onEngineEvent(cb: (event: EngineEvent) => void): () => void;
}

/** Sends one contract command with its (camelCase) arguments; rejects with an ApiError. */
export type Invoke = (command: string, args: Record<string, unknown>) => Promise<unknown>;

/**
 * The command methods of a Backend on top of a transport's `invoke`, so both transports agree
 * on names and argument keys. Pulls and events differ per transport and are added by each.
 */
export function commandMethods(invoke: Invoke): Omit<Backend, 'pullImage' | 'onEngineEvent'> {
  const call = <T>(command: string, args: Record<string, unknown> = {}) => invoke(command, args) as Promise<T>;
  return {
    engineInfo: () => call('engine_info'),
    listContainers: () => call('list_containers'),
    containerStats: () => call('container_stats'),
    startContainer: (id) => call('start_container', { id }),
    stopContainer: (id, timeout) => call('stop_container', timeout === undefined ? { id } : { id, timeout }),
    restartContainer: (id) => call('restart_container', { id }),
    removeContainer: (id, force) => call('remove_container', { id, force }),
    inspectContainer: (id) => call('inspect_container', { id }),
    containerLogs: (id, tail) => call('container_logs', tail === undefined ? { id } : { id, tail }),
    listImages: () => call('list_images'),
    imageDetails: (reference) => call('image_details', { reference }),
    removeImage: (id, force) => call('remove_image', { id, force }),
    freePort: (protocol, preferred) =>
      call('free_port', preferred === undefined ? { protocol } : { protocol, preferred }),
    createContainer: (request) => call('create_container', { request }),
  };
}
