/**
 * Docker operations (create+start, remove) the agent runs at once on its host: dockerd
 * serializes little, and 4 fills 2 cores (notes/baselines.md). Exported on its own so a
 * benchmark's raw baseline (bench/overhead.bench.ts) works with exactly the agent's parallelism.
 */
export const dockerConcurrency = 4;
