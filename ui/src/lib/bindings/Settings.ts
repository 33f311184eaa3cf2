// Hand-written from scratch/app-contract-v2.md until ts-rs generates it from src-tauri/src/dto.rs.
export type Settings = { storageRoot: string, runRoot: string, registriesConf: string, registries: Array<{ host: string, insecure: boolean, loggedIn: boolean, }>, socket: { path: string, enabled: boolean, } | null, version: string, };
