import type Docker from "dockerode";
import { EventEmitter } from "events";
import type { HostNetworkSpec, HostNetworkStatus } from "../../runtime/protocol/model";
import { errorMessage, Logger } from "../log";
import { OverlayBridge } from "./bridge";
import { HostPlumbing } from "./host-plumbing";
import { isCidr, isIpv4 } from "./ipsec-config";
import { Ipsec } from "./ipsec";

/** How long a verified bridge and rule set is trusted before it is read again. */
const recheckMs = 5_000;

/**
 * The host's part of the overlay, level-triggered: every `apply` makes the bridge network,
 * the packet plumbing and charon match the desired `network` spec. Order matters: the bridge
 * first (containers join it, and dockerd inserts its NAT rules when it is created), then the
 * rules (ours must head POSTROUTING), then IPsec (charon's routes take the bridge address as
 * source). Emits "change" with the new status when what would be reported changed.
 */
export class NetworkManager extends EventEmitter {
  private readonly bridge: OverlayBridge;
  private readonly plumbing = new HostPlumbing();
  readonly ipsec: Ipsec;
  private spec?: HostNetworkSpec;
  private hostError?: string;
  /** When the bridge and rules were last found (or made) right for `checkedSpec`. */
  private checkedAt = 0;
  private checkedSpec = "";

  constructor(docker: Docker, stateDir: string, private readonly log: Logger) {
    super();
    this.bridge = new OverlayBridge(docker, log);
    this.ipsec = new Ipsec(stateDir, log);
    this.ipsec.on("change", () => this.emit("change", this.status()));
  }

  /** The overlay as reported in the observed document; undefined before the host had a network spec. */
  status(): HostNetworkStatus | undefined {
    if (!this.spec) return undefined;
    const s = this.ipsec.status();
    const error = [this.hostError, s.error].filter(Boolean).join("; ");
    const { error: _ignored, ...rest } = s;
    return error ? { ...rest, error } : rest;
  }

  /** Converges on `spec`; without one (no subnet yet) the host is left as it is. Never throws. */
  async apply(spec: HostNetworkSpec | undefined): Promise<void> {
    if (!spec) return;
    this.spec = spec;
    const before = this.hostError;
    const key = JSON.stringify([spec.cidr, spec.subnet, spec.gateway]);
    // Reconciles come in bursts (Docker events): re-read rules at most every few seconds for an unchanged spec.
    if (key !== this.checkedSpec || Date.now() - this.checkedAt > recheckMs || this.hostError) {
      try {
        validateHostSpec(spec);
        await this.bridge.ensure(spec);
        const changes = await this.plumbing.apply(spec.cidr);
        if (changes > 0) this.log.info("host overlay plumbing applied", { cidr: spec.cidr, changes });
        this.hostError = undefined;
        this.checkedSpec = key;
        this.checkedAt = Date.now();
      } catch (err) {
        this.hostError = errorMessage(err);
        this.log.error("host overlay plumbing failed", { reason: this.hostError });
      }
    }
    await this.ipsec.apply(spec);
    if (before !== this.hostError) this.emit("change", this.status());
  }

  /** The session ends without teardown: charon keeps running so tunnels survive an agent restart. */
  stop(): Promise<void> {
    return this.ipsec.stop(false);
  }

  /** Removes everything the overlay put on the host: charon, the bridge network, rules, route, DNS address. */
  async teardown(): Promise<void> {
    this.checkedSpec = "";
    await this.ipsec.stop(true);
    await this.bridge.remove();
    await this.plumbing.remove();
    this.log.info("overlay removed from the host");
  }
}

function validateHostSpec(spec: HostNetworkSpec): void {
  if (!isCidr(spec.cidr)) throw new Error(`network.cidr ${JSON.stringify(spec.cidr)} is not a CIDR`);
  if (!isCidr(spec.subnet)) throw new Error(`network.subnet ${JSON.stringify(spec.subnet)} is not a CIDR`);
  if (!isIpv4(spec.gateway)) throw new Error(`network.gateway ${JSON.stringify(spec.gateway)} is not an IPv4 address`);
  if (!Array.isArray(spec.peers)) throw new Error("network.peers is not an array");
}
