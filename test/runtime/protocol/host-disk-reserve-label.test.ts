/** The Docker disk reserve label is checked wherever host labels come in (PATCH, registration). */
import t from "tap";
import { DroverError } from "../../../runtime/protocol/errors";
import { validateHostUpdate } from "../../../runtime/protocol/validate/host";
import { validateRegisterRequest } from "../../../runtime/protocol/validate/register";
import { DOCKER_DISK_RESERVE_LABEL } from "../../../runtime/scheduler";

const FIELD = `labels["${DOCKER_DISK_RESERVE_LABEL}"]`;

function thrown(fn: () => unknown): DroverError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DroverError) return err;
    throw err;
  }
  throw new Error("expected a DroverError, nothing was thrown");
}

/** Every problem of a validation error (one, or the list in detail.errors). */
function problems(err: DroverError): Array<{ field?: string; message: string }> {
  return (err.detail as { errors?: Array<{ field: string; message: string }> } | undefined)?.errors ?? [{ field: err.field, message: err.message }];
}

t.test("PATCH host labels: a valid reserve passes, a bad one names the label and what was expected", async (t) => {
  t.same(validateHostUpdate({ labels: { [DOCKER_DISK_RESERVE_LABEL]: "10%" } }).labels, { [DOCKER_DISK_RESERVE_LABEL]: "10%" });
  const err = thrown(() => validateHostUpdate({ labels: { [DOCKER_DISK_RESERVE_LABEL]: "plenty" } }));
  t.equal(err.code, "InvalidField");
  t.equal(err.field, FIELD);
  t.equal(err.message, `${FIELD}: expected a size such as 2GiB, 500MB or 0, or a share of the data root such as 10%, got "plenty"`);
});

t.test("registration: an agent's --label with a bad reserve is refused with the same reason", async (t) => {
  const err = thrown(() => validateRegisterRequest({ token: "x", labels: { [DOCKER_DISK_RESERVE_LABEL]: "200%" } }));
  t.ok(problems(err).some((p) => p.field === FIELD && /at most 100%/.test(p.message)), "the label is among the problems");
});
