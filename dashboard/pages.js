// The dashboard's pages. Each renders from the EnvStore (kept live by the event stream) and,
// for hosts, the StatsClient; data-testid attributes name what the browser tests read.
import { h } from "./vendor/preact.mjs";
import htm from "./vendor/htm.mjs";
import { apiPath } from "./api.js";
import { LivePlot } from "./plot.js";

export const html = htm.bind(h);

const st = (s) => html`<span class=${"state-" + String(s || "").split(/[\s:]/)[0]}>${s || "—"}</span>`;
const labels = (l) => Object.entries(l || {}).map(([k, v]) => html`<span class="label">${k}=${v}</span>`);
export const viewInApi = (url) => url && html`<a href=${"#/api" + apiPath(url)} data-testid="view-in-api">View in API</a>`;
const envLink = (envId, rest) => `#/env/${encodeURIComponent(envId)}/${rest}`;

export function EnvironmentsPage({ envs }) {
  return html`<h2>Environments</h2>
  <table data-testid="environments"><thead><tr><th>Name</th><th>State</th><th>Network</th><th>Created</th><th></th></tr></thead><tbody>
  ${envs.map((e) => html`<tr data-testid="environment-row" data-id=${e.id}>
    <td><a href=${envLink(e.id, "hosts")} data-testid="name">${e.name}</a></td><td>${st(e.state)}</td>
    <td>${e.network && e.network.cidr}</td><td>${e.createdAt}</td><td>${viewInApi(e.links && e.links.self)}</td></tr>`)}
  </tbody></table>`;
}

function tunnels(host, store) {
  const t = host.network && host.network.tunnels;
  if (!t || Object.keys(t).length === 0) return html`<span class="muted">${host.network ? host.network.ipsecMode : "—"}</span>`;
  return Object.entries(t).map(([peer, tun]) => html`<div data-testid="tunnel" data-peer=${peer}>${(store.get("host", peer) || {}).name || peer}: ${st(tun.state)}</div>`);
}

const pct = (x) => (x * 100).toFixed(0) + "%";
const mib = (x) => (x >= 100 * 1048576 ? (x / 1048576).toFixed(0) : (x / 1048576).toFixed(1)) + " MiB";

export function HostsPage({ store, stats }) {
  const hosts = store.list("host").sort((a, b) => a.name.localeCompare(b.name));
  return html`<h2>Hosts</h2>
  <table data-testid="hosts"><thead><tr><th>Name</th><th>State</th><th>Labels</th><th>Agent</th><th>Docker</th><th>Subnet</th><th>IPsec tunnels</th><th>Load</th><th></th></tr></thead><tbody>
  ${hosts.map((host) => {
    const samples = (stats.hosts.get(host.id) || { samples: [] }).samples;
    const last = samples[samples.length - 1];
    return html`<tr data-testid="host-row" data-id=${host.id}>
      <td data-testid="name">${host.name}</td><td data-testid="state">${st(host.state)}${host.deactivated ? " (deactivated)" : ""}</td>
      <td>${labels(host.labels)}</td><td data-testid="agent-version">${host.agentVersion}</td><td data-testid="docker-version">${host.dockerVersion}</td>
      <td data-testid="subnet">${host.subnet}</td><td>${tunnels(host, store)}</td>
      <td data-testid="load">${last ? `${last.host.load1.toFixed(2)} · cpu ${pct(last.host.cpu)} · mem ${mib(last.host.memUsedBytes)}` : "—"}</td>
      <td>${viewInApi(host.links && host.links.self)}</td></tr>`;
  })}
  </tbody></table>
  <h3>Live stats <span class=${"live " + (stats.state === "live" ? "on" : "off")} data-testid="stats-state">${stats.state}</span></h3>
  <div class="plots">${hosts.map((host) => html`<div class="card">
    <${LivePlot} stats=${stats} hostId=${host.id} title=${host.name + " cpu / mem"} testid="host-plot"
      series=${[{ label: "cpu %", value: (s) => s.host.cpu * 100 }, { label: "mem %", value: (s) => (100 * s.host.memUsedBytes) / s.host.memTotalBytes }]} />
    <${ContainerTable} stats=${stats} hostId=${host.id} /></div>`)}</div>`;
}

function ContainerTable({ stats, hostId }) {
  const samples = (stats.hosts.get(hostId) || { samples: [] }).samples;
  const last = samples[samples.length - 1];
  if (!last || last.containers.length === 0) return null;
  return html`<table data-testid="container-stats"><thead><tr><th>Container</th><th>CPU</th><th>Memory</th></tr></thead><tbody>
    ${last.containers.slice(0, 50).map((c) => html`<tr><td>${c.name}</td><td>${pct(c.cpu)}</td><td>${mib(c.memBytes)}</td></tr>`)}</tbody></table>`;
}

/** Where the line from box `a`'s centre towards box `b`'s leaves `a` (boxes 160 × 40). */
function border(a, b) {
  const cx = a.x + 80, cy = a.y + 20, dx = b.x + 80 - cx, dy = b.y + 20 - cy;
  const k = Math.min(dx ? 80 / Math.abs(dx) : Infinity, dy ? 20 / Math.abs(dy) : Infinity);
  return Number.isFinite(k) ? [cx + dx * k, cy + dy * k] : [cx, cy + 20];
}

/** Services as boxes, links as arrows (alias on the arrow): the stack's topology. */
function Topology({ services, store }) {
  if (services.length === 0) return html`<p class="muted">No services.</p>`;
  const w = 160, gap = 100, row = 100;
  const perRow = 4;
  const pos = new Map(services.map((s, i) => [s.id, { x: 10 + (i % perRow) * (w + gap), y: 10 + Math.floor(i / perRow) * row }]));
  const edges = [];
  for (const s of services) for (const [alias, target] of Object.entries((s.spec && s.spec.links) || {})) edges.push({ from: s.id, to: target, alias });
  const height = 10 + Math.ceil(services.length / perRow) * row;
  return html`<svg class="topology" data-testid="topology" width=${perRow * (w + gap)} height=${height}>
    <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>
    ${edges.map((e) => {
      const a = pos.get(e.from), b = pos.get(e.to) || { x: a.x, y: a.y + row };
      const [x1, y1] = border(a, b), [x2, y2] = border(b, a);
      return html`<g data-testid="topology-link" data-from=${e.from} data-to=${e.to}><line x1=${x1} y1=${y1} x2=${x2} y2=${y2} stroke="#555" marker-end="url(#arrow)"/>
        <text x=${(x1 + x2) / 2} y=${(y1 + y2) / 2 - 4} text-anchor="middle">${e.alias}</text></g>`;
    })}
    ${services.map((s) => {
      const p = pos.get(s.id);
      const n = store.list("instance").filter((i) => i.serviceId === s.id && i.state !== "removed").length;
      return html`<g data-testid="topology-service" data-id=${s.id}><rect x=${p.x} y=${p.y} width=${w} height="40" rx="4" fill="#fff" stroke="#1e2a38"/>
        <text x=${p.x + 8} y=${p.y + 16}>${s.name}</text><text x=${p.x + 8} y=${p.y + 32} class="muted">${s.state} · ${n} inst.</text></g>`;
    })}
  </svg>`;
}

export function StacksPage({ store }) {
  const stacks = store.list("stack").sort((a, b) => a.name.localeCompare(b.name));
  return html`<h2>Stacks</h2>${stacks.map((stack) => {
    const services = [...store.list("service"), ...store.list("loadBalancer")].filter((s) => s.stackId === stack.id).sort((a, b) => a.name.localeCompare(b.name));
    return html`<div class="card" data-testid="stack" data-id=${stack.id}><h3 data-testid="name">${stack.name} ${st(stack.state)}</h3>
      <p class="muted">${stack.description || ""}</p> ${viewInApi(stack.links && stack.links.self)}
      <${Topology} services=${services} store=${store} /></div>`;
  })}`;
}

function upgradeProgress(service, instances) {
  const u = service.upgrade;
  if (!u) return "";
  const onNew = instances.filter((i) => i.specVersion === u.toVersion && i.state !== "removed").length;
  const want = service.spec && !service.spec.global ? service.spec.scale : instances.length;
  return html`<span data-testid="upgrade">${u.state} v${u.fromVersion}→v${u.toVersion}: ${onNew}/${want}${u.reason ? ` (${u.reason})` : ""}</span>`;
}

export function ServicesPage({ store, envId }) {
  const services = store.list("service").sort((a, b) => a.name.localeCompare(b.name));
  const instances = store.list("instance");
  const byService = new Map();
  for (const i of instances) if (i.state !== "removed") (byService.get(i.serviceId) || byService.set(i.serviceId, []).get(i.serviceId)).push(i);
  return html`<h2>Services</h2>
  <table data-testid="services"><thead><tr><th>Name</th><th>Stack</th><th>Image</th><th>Scale</th><th>Instances</th><th>State</th><th>Health</th><th>Upgrade</th><th></th></tr></thead><tbody>
  ${services.map((s) => {
    const mine = byService.get(s.id) || [];
    return html`<tr data-testid="service-row" data-id=${s.id}>
      <td><a href=${envLink(envId, "services/" + encodeURIComponent(s.id))} data-testid="name">${s.name}</a></td>
      <td>${(store.get("stack", s.stackId) || {}).name}</td><td>${s.spec && s.spec.image}</td>
      <td data-testid="scale">${s.spec && (s.spec.global ? "global" : s.spec.scale)}</td>
      <td data-testid="instance-count">${mine.length}</td><td>${st(s.state)}</td><td>${st(s.healthState)}</td>
      <td>${upgradeProgress(s, mine)}</td><td>${viewInApi(s.links && s.links.self)}</td></tr>`;
  })}
  </tbody></table>
  <${InstanceTable} store=${store} instances=${instances.filter((i) => i.kind !== "lb")} />`;
}

export function InstanceTable({ store, instances }) {
  // Plain comparison, not localeCompare: thousands of rows sort in a few ms.
  const rows = instances.filter((i) => i.state !== "removed").sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // Rows are grid lines, not table rows, so the browser can skip laying out those off screen
  // (content-visibility does not apply to table rows): thousands of instances stay quick.
  return html`<h3>Instances</h3>
  <div class="grid" data-testid="instances">
  <div class="grid-row grid-head"><span>Name</span><span>Host</span><span>Overlay IP</span><span>State</span><span>Container</span><span>Health</span><span>Restarts</span><span></span></div>
  ${rows.map((i) => html`<div class="grid-row" data-testid="instance-row" data-id=${i.id}>
    <span data-testid="name">${i.name}</span><span data-testid="host">${(store.get("host", i.hostId) || {}).name || i.hostId}</span>
    <span data-testid="ip">${i.ip}</span><span data-testid="state">${st(i.state)}</span>
    <span data-testid="container-state">${st(i.status && i.status.state)}</span><span data-testid="health">${st(i.healthState)}</span>
    <span data-testid="restarts">${(i.status && i.status.restartCount) || 0}</span><span>${viewInApi(i.links && i.links.self)}</span></div>`)}
  </div>`;
}

export function ServicePage({ store, id }) {
  const s = store.get("service", id);
  if (!s) return html`<p class="muted">No service ${id}.</p>`;
  const mine = store.list("instance").filter((i) => i.serviceId === id);
  return html`<h2 data-testid="service-name">${s.name} ${st(s.state)}</h2>
    <p>${viewInApi(s.links && s.links.self)} · image ${s.spec.image} · scale ${s.spec.global ? "global" : s.spec.scale} · ${upgradeProgress(s, mine)}</p>
    <p>Links: ${Object.entries(s.spec.links || {}).map(([a, t]) => html`<span class="label">${a} → ${(store.get("service", t) || {}).name || t}</span>`)}</p>
    <${InstanceTable} store=${store} instances=${mine} />`;
}

export function LoadBalancersPage({ store }) {
  const lbs = store.list("loadBalancer").sort((a, b) => a.name.localeCompare(b.name));
  return html`<h2>Load balancers</h2>${lbs.map((lb) => html`<div class="card" data-testid="lb" data-id=${lb.id}>
    <h3 data-testid="name">${lb.name} ${st(lb.state)}</h3> ${viewInApi(lb.links && lb.links.self)}
    <table data-testid="lb-rules"><thead><tr><th>Source port</th><th>Protocol</th><th>Hostname</th><th>Path</th><th>Target</th><th>Port</th></tr></thead><tbody>
    ${lb.spec.portRules.map((r) => html`<tr data-testid="lb-rule"><td>${r.sourcePort}</td><td>${r.protocol}</td><td>${r.hostname || ""}</td><td>${r.path || ""}</td>
      <td>${(store.get("service", r.targetServiceId) || {}).name || r.targetServiceId}</td><td>${r.targetPort}</td></tr>`)}</tbody></table>
    <table data-testid="lb-backends"><thead><tr><th>HAProxy</th><th>Host</th><th>State</th><th>Backends</th></tr></thead><tbody>
    ${(lb.instances || []).map((i) => html`<tr data-testid="lb-instance"><td>${i.name}</td><td>${(store.get("host", i.hostId) || {}).name || i.hostId}</td>
      <td>${st(i.haproxy ? i.haproxy.state : i.state)}</td>
      <td>${Object.entries((i.haproxy && i.haproxy.backends) || {}).map(([b, servers]) => html`<div>${b}: ${Object.entries(servers).map(([sid, state]) =>
        html`<span class="label" data-testid="backend" data-state=${state}>${(store.get("instance", sid) || {}).name || sid} ${st(state)}</span>`)}</div>`)}</td></tr>`)}
    </tbody></table></div>`)}`;
}

export function EventsPage({ store }) {
  return html`<h2>Events</h2><table data-testid="events"><thead><tr><th>Id</th><th>Event</th><th>Resource</th><th></th></tr></thead><tbody>
  ${store.events.map((e) => html`<tr data-testid="event-row"><td>${e.id}</td><td data-testid="event-name">${e.name}</td>
    <td>${(e.resource && e.resource.name) || e.resourceId}</td><td>${viewInApi(e.resource && e.resource.links && e.resource.links.self)}</td></tr>`)}
  </tbody></table>`;
}

/** Any API document as JSON, its URLs turned into links that stay in the viewer. */
export function JsonView({ doc }) {
  const text = JSON.stringify(doc, null, 2);
  const parts = [];
  const re = /"(https?:\/\/[^"\s]+)"/g;
  let at = 0, m;
  while ((m = re.exec(text))) {
    parts.push(text.slice(at, m.index + 1));
    parts.push(html`<a href=${"#/api" + apiPath(m[1])}>${m[1]}</a>`);
    at = m.index + m[0].length - 1;
  }
  parts.push(text.slice(at));
  return html`<pre class="json" data-testid="api-json">${parts}</pre>`;
}
