// placeholder: the lab helper replaces this file
import type { Command } from "../../runtime/cli/command";
export const labCommand: Command = { name: "lab", summary: "multi-host test lab (not built yet)", usage: "drover lab", async run() { return 1; } };
