/**
 * Compose files in and out of a stack (Rancher's import and "View Config"):
 *   POST /stacks?action=import  {name, description?, dockerCompose, rancherCompose?, envFiles?}
 *        creates the stack or brings an existing one of that name in line with the files
 *   POST /stacks                the same body: creates a new stack from the files (409 if the name is taken)
 *   GET  /stacks/:id/compose    {dockerCompose, rancherCompose, warnings}
 * `envFiles` maps an env_file path, as docker-compose.yml writes it, to the file's text: the
 * server cannot read the client's disk (the CLI and the Pulumi Stack fill it in). Warnings
 * (keys drover does not act on, by path) come back in the answer; nothing is written when
 * the files are invalid.
 */
import { readCompose, stackByName, warningText, writeCompose } from "../../compose";
import { visibleEnv } from "../auth";
import { MAX_BODY_BYTES, readJsonBody } from "../body";
import type { AuthedContext } from "../context";
import { presentStack } from "../present/stack";
import type { Reply } from "../respond";
import { writeEnv } from "../write";
import { findIn } from "./records";
import { planImport } from "./stack-import-plan";
import { Problems } from "../../protocol/validate/problems";
import { ObjectReader } from "../../protocol/validate/reader";
import { DESCRIPTION, NAME } from "../../protocol/validate/rules";

const FIELDS = ["name", "description", "stackWideDiscovery", "dockerCompose", "rancherCompose", "envFiles"];
/** Two compose files of up to 1 MiB each, their env files, and JSON's escaping. */
export const IMPORT_BODY_BYTES = 3 * MAX_BODY_BYTES;
const FILE = { expected: "the file's text", maxLength: 16 * MAX_BODY_BYTES, minLength: 0 };

/** Whether a POST /stacks body is an import (it carries compose files). */
export function isComposeBody(body: unknown): boolean {
  return typeof body === "object" && body !== null && "dockerCompose" in body;
}

export function importStack(mustBeNew: boolean, given?: unknown) {
  return async (ctx: AuthedContext): Promise<Reply> => {
    const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
    const body = given ?? await readJsonBody(ctx.req, IMPORT_BODY_BYTES);
    const p = new Problems();
    const r = new ObjectReader(p, body, "", FIELDS);
    const name = r.string("name", { ...NAME, required: true });
    const description = r.string("description", DESCRIPTION);
    const stackWideDiscovery = r.boolean("stackWideDiscovery");
    const dockerCompose = r.string("dockerCompose", { ...FILE, required: true });
    const rancherCompose = r.string("rancherCompose", FILE);
    const envFiles = r.stringMap("envFiles", 100, { expected: "an env_file path", maxLength: 1024 }, { ...FILE, maxLength: MAX_BODY_BYTES });
    p.throwIfAny();
    const composed = readCompose({
      dockerCompose: dockerCompose!,
      ...(rancherCompose !== undefined ? { rancherCompose } : {}),
      envFile: (path) => envFiles?.[path] ?? envFiles?.[path.replace(/^\.\//, "")] ?? envFiles?.[`./${path}`],
    });
    const input = { name: name!, ...(description !== undefined ? { description } : {}), ...(stackWideDiscovery !== undefined ? { stackWideDiscovery } : {}) };
    const ids = { stack: () => ctx.api.newId("stack"), service: () => ctx.api.newId("service"), loadBalancer: () => ctx.api.newId("loadBalancer") };
    const outcome = await writeEnv(ctx.api, env.id, (snap) => planImport(snap, input, composed, mustBeNew, ids, ctx.api.now()));
    return {
      status: outcome.stackCreated ? 201 : 200,
      body: {
        type: "stackImport",
        stack: presentStack(outcome.stack, ctx.urls),
        services: outcome.services,
        loadBalancers: outcome.loadBalancers,
        notInFiles: outcome.notInFiles,
        warnings: composed.warnings.map((w) => ({ ...w, text: warningText(w) })),
      },
    };
  };
}

/** GET /stacks/:id/compose: the stack as docker-compose.yml + rancher-compose.yml. */
export async function exportStack(ctx: AuthedContext): Promise<Reply> {
  const env = await visibleEnv(ctx.api, ctx.principal, ctx.params.envId);
  const snap = await ctx.api.store.snapshot(env.id);
  const stack = findIn(snap.stacks, "stack", ctx.params.id);
  const files = writeCompose(stackByName(stack, snap));
  return { status: 200, body: { type: "stackCompose", stackId: stack.id, name: stack.name, ...files } };
}
