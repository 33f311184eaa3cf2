// Written by hand from scratch/app-contract.md until ts-rs generates this file from src-tauri's DTOs.
export type PortDto = { hostIp: string; hostPort: number; containerPort: number; protocol: "tcp" | "udp" };
