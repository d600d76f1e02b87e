/**
 * The typed form of Rancher's scheduling labels, as a Pulumi program writes it. One field per
 * rule of runtime/scheduler/typed-form.ts (each becomes an `io.rancher.scheduler.*` label;
 * the scheduler has one rule engine, the labels one). Hard rules filter hosts; soft rules
 * (`...Preferred`, `...Avoided`) only rank the hosts that pass; ties go to the host with the
 * fewest instances of the service, then the fewest in total.
 *
 * Values may use Rancher's macros `${stack_name}` and `${service_name}` (the service being
 * placed), e.g. `containerLabelsNot: { "io.rancher.stack_service.name": "${stack_name}/${service_name}" }`.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { SchedulingSpec } from "../runtime/scheduler/typed-form";
import { keysOf } from "./input-fields";

/**
 * Label name → value, or a list of values (each one is an item of the rule:
 * `{ zone: ["a", "b"] }` is `zone=a,zone=b`). No `,` or `=` in names, no `,` in values.
 */
export type LabelSelectorInput = Record<string, pulumi.Input<string> | pulumi.Input<string>[]>;

export interface SchedulingInput {
  /**
   * One instance on every active host that passes the hard rules, instead of `scale`
   * instances (`io.rancher.scheduler.global`). Same as the Service's own `global`.
   */
  global?: pulumi.Input<boolean>;

  /**
   * Hard (`host_label`): only hosts that have every one of these labels. A host has one value
   * per label, so a list of two values for one label can never match and is refused.
   * @example { zone: "a", disk: "ssd" }
   */
  hostLabels?: pulumi.Input<LabelSelectorInput>;
  /**
   * Hard (`host_label_ne`): only hosts that have none of these labels.
   * @example { zone: ["c", "d"] } // never in zone c or zone d
   */
  hostLabelsNot?: pulumi.Input<LabelSelectorInput>;
  /** Soft (`host_label_soft`): prefer hosts with these labels; each one a host has adds to its score. */
  hostLabelsPreferred?: pulumi.Input<LabelSelectorInput>;
  /** Soft (`host_label_soft_ne`): prefer hosts without these labels. */
  hostLabelsAvoided?: pulumi.Input<LabelSelectorInput>;

  /**
   * Hard (`container_label`): only hosts already running a container with each of these
   * labels. Every drover container has `io.rancher.stack_service.name: "<stack>/<service>"`
   * (a bare service name means one of this stack).
   * @example { "io.rancher.stack_service.name": "db" } // next to this stack's db
   */
  containerLabels?: pulumi.Input<LabelSelectorInput>;
  /**
   * Hard (`container_label_ne`): only hosts running no container with any of these labels.
   * @example { "io.rancher.stack_service.name": "${stack_name}/${service_name}" } // one per host
   */
  containerLabelsNot?: pulumi.Input<LabelSelectorInput>;
  /** Soft (`container_label_soft`): prefer hosts running containers with these labels. */
  containerLabelsPreferred?: pulumi.Input<LabelSelectorInput>;
  /** Soft (`container_label_soft_ne`): prefer hosts running no container with these labels (spread). */
  containerLabelsAvoided?: pulumi.Input<LabelSelectorInput>;

  /** Hard (`container`): only hosts running containers of all these names. */
  containers?: pulumi.Input<pulumi.Input<string>[]>;
  /** Hard (`container_ne`): only hosts running none of these containers. */
  containersNot?: pulumi.Input<pulumi.Input<string>[]>;
  /** Soft (`container_soft`): prefer hosts running these containers. */
  containersPreferred?: pulumi.Input<pulumi.Input<string>[]>;
  /** Soft (`container_soft_ne`): prefer hosts not running these containers. */
  containersAvoided?: pulumi.Input<pulumi.Input<string>[]>;
}

/** The typed form's fields, checked at compile time against the scheduler's own SchedulingSpec. */
export const SCHEDULING_FIELDS = keysOf<SchedulingInput>()([
  "global", "hostLabels", "hostLabelsNot", "hostLabelsPreferred", "hostLabelsAvoided",
  "containerLabels", "containerLabelsNot", "containerLabelsPreferred", "containerLabelsAvoided",
  "containers", "containersNot", "containersPreferred", "containersAvoided",
]);

/** Compiles only while SchedulingInput and the scheduler's SchedulingSpec have the same fields. */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
const sameAsScheduler: SameKeys<SchedulingInput, SchedulingSpec> = true;
void sameAsScheduler;
