// Written by hand from scratch/app-contract.md until ts-rs generates this file from src-tauri's DTOs.
export type EngineEvent = { kind: "image" | "container" | "volume" | "network"; action: string; id: string; name: string | null };
