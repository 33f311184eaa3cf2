// Written by hand from scratch/app-contract.md until ts-rs generates this file from src-tauri's DTOs.
export type LogLine = { time: string; stream: "stdout" | "stderr"; line: string };
