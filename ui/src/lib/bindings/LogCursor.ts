// Hand-written from scratch/app-contract-v2.md until ts-rs generates it from src-tauri/src/dto.rs.
export type LogCursor = { file: number, offset: number, };
