import { driverFor } from "./drivers";
import { asHostError } from "./drivers/step-error";

/**
 * Every failure of create, read, update and delete as one line naming the host, the step and
 * the input to look at, without a stack trace (step-error.ts); a partially created host keeps
 * its id and properties.
 */
export function withHostErrors<P extends Record<string, any>>(provider: P): P {
  const inputsOf: Record<string, (args: any[]) => any> = { create: (a) => a[0], read: (a) => a[1], update: (a) => a[2], delete: (a) => a[1] };
  const wrapped: Record<string, unknown> = { ...provider };
  for (const [method, pick] of Object.entries(inputsOf)) {
    const inner = provider[method] as (...args: any[]) => Promise<unknown>;
    wrapped[method] = async function (this: unknown, ...args: any[]) {
      try {
        return await inner.apply(this, args);
      } catch (err) {
        const inputs = pick(args) ?? {};
        let how = "driver";
        try { how = driverFor(inputs.driver, inputs.name).describe; } catch { /* invalid driver: check() said so */ }
        throw asHostError(String(inputs.name ?? "?"), how, err);
      }
    };
  }
  return wrapped as P;
}
