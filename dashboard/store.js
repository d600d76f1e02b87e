// What the dashboard knows of one environment: its collections, loaded once and then kept
// up to date from the event stream (each event carries the record; a higher `rev` wins).
import { api, listAll } from "./api.js";
import { followEvents } from "./events.js";

const KINDS = {
  host: "hosts", stack: "stacks", service: "services", instance: "instances", loadBalancer: "loadbalancers",
};

export class EnvStore {
  constructor(envId) {
    this.envId = envId;
    this.env = undefined;
    this.maps = Object.fromEntries(Object.keys(KINDS).map((k) => [k, new Map()]));
    this.events = [];
    this.live = false;
    this.loaded = false;
    this.error = undefined;
    this.listeners = new Set();
    this.removed = new Set();
    this.stream = followEvents(envId, {
      onEvent: (name, data, id) => this.apply(name, data, id),
      onFatal: (message) => { this.error = message; this.emit(); },
      onState: (up) => {
        const wasLive = this.live;
        this.live = up;
        // Loaded once the stream is positioned, so no change falls between the two.
        if (up && !wasLive) this.load();
        this.emit();
      },
    });
  }

  subscribe(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); }
  emit() {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => { this.pending = false; for (const fn of this.listeners) fn(this); });
  }

  list(kind) { return [...this.maps[kind].values()]; }
  get(kind, id) { return this.maps[kind].get(id); }

  put(kind, record) {
    const map = this.maps[kind];
    if (!map || this.removed.has(`${kind}/${record.id}`)) return;
    const old = map.get(record.id);
    if (old && old.rev > record.rev) return;
    // Events show a host without its agent-reported network; keep the last one known.
    map.set(record.id, old && kind === "host" && !record.network && old.network ? { ...record, network: old.network } : record);
  }

  async load() {
    try {
      const [env, ...lists] = await Promise.all([
        api(`/v1/environments/${encodeURIComponent(this.envId)}`),
        ...Object.values(KINDS).map((c) => listAll(`/v1/environments/${encodeURIComponent(this.envId)}/${c}`)),
      ]);
      this.env = env;
      Object.keys(KINDS).forEach((kind, i) => { for (const r of lists[i]) this.put(kind, r); });
      this.loaded = true;
      this.error = undefined;
    } catch (err) {
      this.error = err.message;
    }
    this.emit();
  }

  /** Load balancers with their HAProxies' backends (GET by id only), fetched again when they change. */
  async refreshLoadBalancer(id) {
    try {
      this.put("loadBalancer", await api(`/v1/environments/${encodeURIComponent(this.envId)}/loadbalancers/${encodeURIComponent(id)}`));
      this.emit();
    } catch { /* gone */ }
  }

  apply(name, data, id) {
    this.events.unshift({ id, name, at: new Date().toISOString(), type: data.type, action: data.action, resourceId: data.id, resource: data.resource });
    if (this.events.length > 200) this.events.length = 200;
    if (data.type === "environment" && data.resource) this.env = data.resource;
    else if (data.action === "removed") {
      this.maps[data.type] && this.maps[data.type].delete(data.id);
      this.removed.add(`${data.type}/${data.id}`);
    } else if (data.resource) {
      this.put(data.type, data.resource);
    }
    if (data.type === "instance" && data.resource && data.resource.kind === "lb") this.refreshLoadBalancer(data.resource.serviceId);
    this.emit();
  }

  stop() { this.stream.stop(); }
}
