import type { ApiContext } from "../../../runtime/api/options";
import type { OmittableList, Store } from "../../../runtime/store/store";
import type { storeFixture } from "../store/store-fixture";

/**
 * The fixture's store for createInEnv / updateInEnv tests: it does `between` once after the
 * API's first read without instances (another writer getting in before the API's write),
 * counts those reads, and fails a whole-environment read (the helpers must not make one).
 */
export function storeWith(f: ReturnType<typeof storeFixture>, between: () => Promise<unknown>): { store: Store; reads: () => number } {
  let reads = 0;
  const store = new Proxy(f.store, {
    get(target, prop, receiver) {
      if (prop === "snapshotWithout") {
        return async (envId: string, leaveOut: readonly OmittableList[]) => {
          if (!leaveOut.includes("instances")) throw new Error("the API read the whole environment, instances included");
          const snap = await target.snapshotWithout(envId, leaveOut);
          if (++reads === 1) await between();
          return snap;
        };
      }
      if (prop === "snapshot") throw new Error("the API read the whole environment, instances included");
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Store;
  return { store, reads: () => reads };
}

/** Just enough of an ApiContext for the write helpers. */
export const apiWith = (store: Store) => ({ store, nudge: () => undefined }) as unknown as ApiContext;
