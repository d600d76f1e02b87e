// The dashboard's shell: sign-in, hash routing (the URL never holds a key), one EnvStore and
// one StatsClient for the environment on screen.
import { render } from "./vendor/preact.mjs";
import { useEffect, useState } from "./vendor/hooks.mjs";
import { api, ApiError, listAll, session } from "./api.js";
import { EnvStore } from "./store.js";
import { StatsClient } from "./stats.js";
import {
  html, EnvironmentsPage, EventsPage, HostsPage, JsonView, LoadBalancersPage, ServicePage, ServicesPage, StacksPage,
} from "./pages.js";

function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return hash;
}

function SignIn({ onDone }) {
  const [error, setError] = useState("");
  const submit = async (e) => {
    e.preventDefault();
    const key = e.target.elements.key.value.trim();
    session.signIn(key);
    try {
      await api("/v1/environments");
      onDone();
    } catch (err) {
      session.signOut();
      setError(err instanceof ApiError && err.status === 401 ? "That key is not valid." : err.message);
    }
  };
  return html`<form class="signin" onSubmit=${submit} data-testid="signin">
    <h2>drover</h2><p>Sign in with the admin key or an environment's API key. It is kept in this tab only.</p>
    <input type="password" name="key" autocomplete="off" placeholder="API key" data-testid="key" />
    <button type="submit" data-testid="signin-submit">Sign in</button>
    <p class="error" data-testid="signin-error">${error}</p></form>`;
}

/**
 * Re-renders on every change of an EnvStore or StatsClient. Effects run after paint, so the
 * source may already have changed (a fast 404 from its event stream, say) before this
 * subscribes: one render on subscribing shows whatever it missed.
 */
function useLive(source) {
  const [, tick] = useState(0);
  useEffect(() => {
    if (!source) return undefined;
    const unsubscribe = source.subscribe(() => tick((n) => n + 1));
    tick((n) => n + 1);
    return unsubscribe;
  }, [source]);
}

function EnvView({ envId, page, rest }) {
  const [ctx, setCtx] = useState();
  const [stats, setStats] = useState();
  useEffect(() => {
    const store = new EnvStore(envId);
    setCtx({ store });
    return () => store.stop();
  }, [envId]);
  // Stats stream only while a page shows them.
  const wantStats = page === "hosts";
  useEffect(() => {
    if (!wantStats) return undefined;
    const client = new StatsClient(envId);
    setStats(client);
    return () => { client.stop(); setStats(undefined); };
  }, [envId, wantStats]);
  useLive(ctx && ctx.store);
  useLive(stats);
  useEffect(() => {
    if (ctx && page === "loadbalancers" && ctx.store.loaded) for (const lb of ctx.store.list("loadBalancer")) ctx.store.refreshLoadBalancer(lb.id);
  }, [ctx, page, ctx && ctx.store.loaded]);
  if (!ctx) return null;
  const { store } = ctx;
  const tab = (p, label) => html`<a href=${`#/env/${encodeURIComponent(envId)}/${p}`} class=${page === p ? "active" : ""}>${label}</a>`;
  let body;
  if (store.error && !store.loaded) body = html`<p class="error" data-testid="env-error">${store.error}</p>`;
  else if (!store.loaded) body = html`<p class="muted">Loading…</p>`;
  else if (page === "hosts") body = stats ? html`<${HostsPage} store=${store} stats=${stats} />` : null;
  else if (page === "stacks") body = html`<${StacksPage} store=${store} />`;
  else if (page === "services" && rest) body = html`<${ServicePage} store=${store} id=${rest} />`;
  else if (page === "services") body = html`<${ServicesPage} store=${store} envId=${envId} />`;
  else if (page === "loadbalancers") body = html`<${LoadBalancersPage} store=${store} />`;
  else body = html`<${EventsPage} store=${store} />`;
  return html`<nav class="tabs" style="display:flex;gap:12px;margin-bottom:8px">
      <strong data-testid="env-name">${store.env ? store.env.name : envId}</strong>
      ${tab("hosts", "Hosts")} ${tab("stacks", "Stacks")} ${tab("services", "Services")} ${tab("loadbalancers", "Load balancers")} ${tab("events", "Events")}
      <span class=${"live " + (store.live ? "on" : "off")} data-testid="events-state">${store.live ? "live" : "reconnecting"}</span></nav>
    <div data-testid="page" data-page=${page} data-loaded=${String(store.loaded)}>${body}</div>`;
}

function ApiView({ path }) {
  const [doc, setDoc] = useState();
  useEffect(() => {
    setDoc(undefined);
    api(path).then(setDoc, (err) => setDoc({ error: err.message }));
  }, [path]);
  return html`<h2>${path}</h2>${doc === undefined ? html`<p class="muted">Loading…</p>` : html`<${JsonView} doc=${doc} />`}`;
}

function Environments() {
  const [envs, setEnvs] = useState();
  useEffect(() => { listAll("/v1/environments").then(setEnvs, () => setEnvs([])); }, []);
  return envs ? html`<${EnvironmentsPage} envs=${envs} />` : html`<p class="muted">Loading…</p>`;
}

function App() {
  const hash = useHash();
  const [signedIn, setSignedIn] = useState(Boolean(session.key()));
  if (!signedIn) return html`<${SignIn} onDone=${() => setSignedIn(true)} />`;
  const m = /^#\/env\/([^/]+)\/([a-z]+)(?:\/(.+))?$/.exec(hash);
  const apiMatch = /^#\/api(\/.*)$/.exec(hash);
  let body;
  if (m) body = html`<${EnvView} envId=${decodeURIComponent(m[1])} page=${m[2]} rest=${m[3] && decodeURIComponent(m[3])} />`;
  else if (apiMatch) body = html`<${ApiView} path=${apiMatch[1]} />`;
  else body = html`<${Environments} />`;
  const signOut = () => { session.signOut(); setSignedIn(false); };
  return html`<header><strong>drover</strong><a href="#/">Environments</a>
    <span class="right"><button class="link" style="color:#cfe3ff" onClick=${signOut} data-testid="signout">Sign out</button></span></header>
    <main>${body}</main>`;
}

const root = document.getElementById("app");
root.textContent = ""; // the static "Loading…" is not Preact's to diff
render(html`<${App} />`, root);
