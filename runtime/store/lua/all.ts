import type { LuaScript } from "../scripts";
import { addRegistrationTokenScript } from "./add-registration-token";
import { createEnvironmentScript } from "./create-environment";
import { leaderAcquireScript } from "./leader-acquire";
import { leaderReleaseScript } from "./leader-release";
import { observeInstancesScript } from "./observe-instances";
import { purgeEnvironmentScript } from "./purge-environment";
import { registerHostScript } from "./register-host";
import { setDesiredScript } from "./set-desired";
import { setDnsScript } from "./set-dns";
import { setIpsecScript } from "./set-ipsec";
import { environmentChangedScript, setEnvironmentRecordScript, takeEnvironmentRevScript } from "./update-environment";
import { claimIndexEntryScript, dropIndexEntriesScript } from "./index-entries";
import { writeScript } from "./write";

/** Every script the store and the leader lease run (scripts.ts defineScripts defines them up front). */
export const allScripts: readonly LuaScript[] = [
  addRegistrationTokenScript, createEnvironmentScript, leaderAcquireScript, leaderReleaseScript, observeInstancesScript, purgeEnvironmentScript,
  registerHostScript, setDesiredScript, setDnsScript, setIpsecScript, writeScript,
  takeEnvironmentRevScript, setEnvironmentRecordScript, environmentChangedScript, claimIndexEntryScript, dropIndexEntriesScript,
];
