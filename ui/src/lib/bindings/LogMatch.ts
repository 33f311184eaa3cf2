// Hand-written from scratch/app-contract-v2.md until ts-rs generates it from src-tauri/src/dto.rs.
import type { LogCursor } from "./LogCursor";

export type LogMatch = { cursor: LogCursor, line: string, };
