// Written by hand from scratch/app-contract.md until ts-rs generates this file from src-tauri's DTOs.
export type EngineInfo = { version: string; root: string; runRoot: string; containersRunning: number; containersTotal: number; images: number };
