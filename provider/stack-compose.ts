/**
 * The compose side of `drover:Stack` (inputs `dockerCompose`, `rancherCompose`, `envFiles`):
 * check() reads the files with the server's own reader, so a bad file fails the preview
 * with file, line and column, and lists the services it makes (`composeServices`, shown in
 * the preview); the program side logs the reader's warnings as Pulumi diagnostics; create
 * and update import the files and wait for the stack's services to converge.
 */
import type { CheckFailure } from "./check";
import { callApi, describeFailure } from "./client";
import type { Connection } from "./settings";
import { pollUntil } from "./wait";
import type { ComposeStack } from "../runtime/compose";

export const COMPOSE_FIELDS = ["dockerCompose", "rancherCompose", "envFiles"] as const;

/** The pair read as the server will read it: its summary, or why it cannot be read. */
export function readComposeInputs(news: Record<string, any>): { stack?: ComposeStack; failures: CheckFailure[] } {
  if (typeof news.dockerCompose !== "string") return { failures: [] };
  const { readCompose } = require("../runtime/compose") as typeof import("../runtime/compose");
  const envFiles: Record<string, string> = news.envFiles && typeof news.envFiles === "object" ? news.envFiles : {};
  try {
    const stack = readCompose({
      dockerCompose: news.dockerCompose,
      ...(typeof news.rancherCompose === "string" ? { rancherCompose: news.rancherCompose } : {}),
      envFile: (p) => envFiles[p] ?? envFiles[p.replace(/^\.\//, "")],
    });
    return { stack, failures: [] };
  } catch (err: any) {
    return { failures: [{ property: err?.field ?? "dockerCompose", reason: err?.message ?? String(err) }] };
  }
}

/** One line per service and load balancer, for the preview: what `up` will run. */
export function composeSummary(stack: ComposeStack): string[] {
  const services = stack.services.map(({ name, spec }) => {
    const parts = [spec.image, spec.global ? "global" : `scale ${spec.scale}`];
    const published = spec.ports.filter((p) => p.hostPort !== undefined).map((p) => `${p.hostPort}:${p.containerPort}/${p.protocol}`);
    if (published.length) parts.push(`ports ${published.join(" ")}`);
    const links = Object.entries(spec.links).map(([alias, target]) => (alias === target ? target : `${alias}→${target}`));
    if (links.length) parts.push(`links ${links.join(" ")}`);
    if (spec.healthCheck) parts.push(`health check :${spec.healthCheck.port}`);
    return `service ${name}: ${parts.join(", ")}`;
  });
  const lbs = stack.loadBalancers.map(({ name, spec }) =>
    `loadBalancer ${name}: ${spec.portRules.map((r) => `${r.sourcePort}/${r.protocol}→${r.targetServiceId}:${r.targetPort}`).join(" ")}`);
  return [...services, ...lbs];
}

/** Waits until every service and load balancer of the stack has converged; fails at once on `transitioning: error`. */
export async function waitStackConverged(conn: Connection, envId: string, stackId: string, timeoutMs: number): Promise<void> {
  const base = `/v1/environments/${encodeURIComponent(envId)}`;
  await pollUntil(async () => {
    const pending: string[] = [];
    for (const kind of ["services", "loadbalancers"]) {
      const path = `${base}/${kind}?stackId=${encodeURIComponent(stackId)}`;
      const reply = await callApi(conn, "GET", path);
      if (reply.status !== 200) throw new Error(describeFailure("GET", conn.endpoint + path, reply));
      for (const item of reply.body.data as any[]) {
        if (item.state === "removing" || item.state === "removed") continue;
        if (item.transitioning === "error") throw new Error(`${item.name}: ${item.transitioningMessage ?? "failed"}`);
        if (item.transitioning !== "no") pending.push(`${item.name} (${item.transitioningMessage ?? "converging"})`);
      }
    }
    return { done: pending.length === 0, pending: `still converging: ${pending.join(", ")}` };
  }, { what: `stack ${stackId}'s services to converge`, timeoutMs });
}
