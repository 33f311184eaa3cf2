// Hand-written from scratch/app-contract-v2.md until ts-rs generates it from src-tauri/src/dto.rs.
export type VolumeSummary = { name: string, driver: string, mountpoint: string, created: number, anonymous: boolean, usedBy: Array<string>, };
