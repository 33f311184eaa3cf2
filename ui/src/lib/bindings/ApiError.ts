// Written by hand from scratch/app-contract.md until ts-rs generates this file from src-tauri's DTOs.
export type ApiError = { code: string; message: string };
