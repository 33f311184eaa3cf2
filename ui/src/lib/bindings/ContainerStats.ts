// Written by hand from scratch/app-contract.md until ts-rs generates this file from src-tauri's DTOs.
export type ContainerStats = { id: string; cpuPercent: number; memUsage: number; memLimit: number | null; pids: number };
