// Written by hand from scratch/app-contract.md until ts-rs generates this file from src-tauri's DTOs.
export type RestartPolicy = "no" | "on-failure" | "always" | "unless-stopped";
