// Written by hand from scratch/app-contract.md until ts-rs generates this file from src-tauri's DTOs.
export type ImageDetails = { id: string; names: Array<string>; cmd: Array<string>; entrypoint: Array<string>; env: Array<string>; workingDir: string; exposedPorts: Array<string> };
