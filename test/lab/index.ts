/** The multi-host test lab: see lab.ts (Lab), host.ts (LabHost) and for-test.ts (labForTest). */
export { Lab, LabOptions } from "./lab";
export { LabHost, LabSsh, HostExecOptions, HostSpawnOptions } from "./host";
export { labForTest } from "./for-test";
export { LabLeftoverError, teardownRun } from "./teardown";
export { ExecResult } from "./proc";
export { TEST_IMAGE } from "./image";
