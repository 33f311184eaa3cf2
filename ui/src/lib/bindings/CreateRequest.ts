// Written by hand from scratch/app-contract.md until ts-rs generates this file from src-tauri's DTOs.
import type { PortDto } from "./PortDto";
import type { RestartPolicy } from "./RestartPolicy";

export type CreateRequest = { image: string; name: string | null; command: Array<string> | null; entrypoint: Array<string> | null; ports: Array<PortDto>; env: Array<string>; envFile: string | null; restart: RestartPolicy; remove: boolean; start: boolean };
