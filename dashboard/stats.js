// Live stats over the server's websocket (/v1/stats). Each socket needs a fresh short-lived
// token, minted with the session's key by a POST (the key never goes into the URL). The
// client asks for samples newer than the last it has (`since`), so after any drop (network,
// server restart, a hidden tab, during which the socket is closed on purpose) the agents'
// history fills the gap. A socket silent for longer than `staleMs` counts as dropped.
import { api } from "./api.js";

const HISTORY_MS = 5 * 60 * 1000;

export class StatsClient {
  constructor(envId, { staleMs = 5000 } = {}) {
    this.envId = envId;
    this.staleMs = staleMs;
    /** hostId → { lastId, samples: [{t, host, containers}] } */
    this.hosts = new Map();
    this.listeners = new Set();
    this.state = "connecting";
    this.ws = undefined;
    this.stopped = false;
    this.attempt = 0;
    this.lastMessageAt = 0;
    this.onVisibility = () => (document.hidden ? this.close("hidden") : this.reconnectSoon(0));
    this.onOnline = () => this.reconnectSoon(0);
    document.addEventListener("visibilitychange", this.onVisibility);
    window.addEventListener("online", this.onOnline);
    this.watchdog = setInterval(() => {
      if (!document.hidden && this.ws && this.ws.readyState === WebSocket.OPEN && Date.now() - this.lastMessageAt > this.staleMs) {
        this.close("stale");
        this.reconnectSoon(0);
      }
    }, 500);
    if (!document.hidden) this.connect();
  }

  subscribe(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); }
  emit() { for (const fn of this.listeners) fn(this); }

  setState(state) { if (this.state !== state) { this.state = state; this.emit(); } }

  since() {
    let min;
    for (const h of this.hosts.values()) if (h.lastT !== undefined && (min === undefined || h.lastT < min)) min = h.lastT;
    return min ?? Date.now() - HISTORY_MS;
  }

  async connect() {
    if (this.stopped || document.hidden || this.ws) return;
    this.setState("connecting");
    const placeholder = {};
    this.ws = placeholder;
    let token;
    try {
      token = await api(`/v1/environments/${encodeURIComponent(this.envId)}/statstokens`, { method: "POST" });
    } catch (err) {
      if (this.ws === placeholder) this.ws = undefined;
      this.setState("offline");
      return this.reconnectSoon();
    }
    if (this.ws !== placeholder || this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}${token.path}?token=${encodeURIComponent(token.token)}&since=${this.since()}`);
    this.ws = ws;
    this.lastMessageAt = Date.now();
    ws.onopen = () => { this.attempt = 0; this.lastMessageAt = Date.now(); this.setState("live"); };
    ws.onmessage = (m) => { this.lastMessageAt = Date.now(); this.add(JSON.parse(m.data)); };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.setState(document.hidden ? "paused" : "offline");
      this.reconnectSoon();
    };
  }

  close(why) {
    const ws = this.ws;
    this.ws = undefined;
    if (ws && ws.close) ws.close(1000, why);
    this.setState(why === "hidden" ? "paused" : "offline");
  }

  reconnectSoon(ms) {
    if (this.stopped || document.hidden) return;
    clearTimeout(this.timer);
    const wait = ms ?? Math.min(1000, 100 * 2 ** this.attempt++);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  add(msg) {
    if (msg.type !== "sample") return;
    let h = this.hosts.get(msg.hostId);
    if (!h) { h = { lastId: undefined, lastT: undefined, samples: [] }; this.hosts.set(msg.hostId, h); }
    if (h.lastId && compareIds(msg.id, h.lastId) <= 0) return;
    h.lastId = msg.id;
    h.lastT = Number(msg.id.split("-")[0]);
    h.samples.push(msg.sample);
    const cutoff = Date.now() - HISTORY_MS;
    while (h.samples.length && h.samples[0].t < cutoff) h.samples.shift();
    this.emitSoon();
  }

  // A backlog arrives as a burst of frames: render once per frame of the screen.
  emitSoon() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.emit(); });
    // Hidden tabs get no animation frames; the backlog on show renders then.
  }

  stop() {
    this.stopped = true;
    clearInterval(this.watchdog);
    clearTimeout(this.timer);
    document.removeEventListener("visibilitychange", this.onVisibility);
    window.removeEventListener("online", this.onOnline);
    this.close("stopped");
  }
}

function compareIds(a, b) {
  const [am, as] = a.split("-").map(Number);
  const [bm, bs] = b.split("-").map(Number);
  return am !== bm ? am - bm : as - bs;
}
