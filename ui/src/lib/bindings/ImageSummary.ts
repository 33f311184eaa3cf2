// Written by hand from scratch/app-contract.md until ts-rs generates this file from src-tauri's DTOs.
export type ImageSummary = { id: string; shortId: string; repository: string; tag: string; names: Array<string>; created: number | null; size: number; inUse: boolean; containers: number };
