// Written by hand from scratch/app-contract.md until ts-rs generates this file from src-tauri's DTOs.
import type { ContainerStatus } from "./ContainerStatus";
import type { PortDto } from "./PortDto";

export type ContainerSummary = { id: string; shortId: string; name: string; image: string; imageId: string; command: string; status: ContainerStatus; exitCode: number | null; created: number; startedAt: number | null; finishedAt: number | null; ports: Array<PortDto>; error: string | null };
