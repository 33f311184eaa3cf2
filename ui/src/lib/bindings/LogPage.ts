// Hand-written from scratch/app-contract-v2.md until ts-rs generates it from src-tauri/src/dto.rs.
import type { LogEntry } from "./LogEntry";

export type LogPage = { entries: Array<LogEntry>, atStart: boolean, };
