// The environment's change stream (GET .../events, server-sent events) read with fetch, so
// the key goes in a header (EventSource cannot send one). Every event carries the record as
// GET shows it; the store applies it, and pages re-render: no polling.
import { session } from "./api.js";

export function parseSse(buffer, onEvent) {
  let at;
  while ((at = buffer.indexOf("\n\n")) >= 0) {
    const block = buffer.slice(0, at);
    buffer = buffer.slice(at + 2);
    const ev = { id: undefined, event: "message", data: "" };
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
      if (field === "id") ev.id = value;
      else if (field === "event") ev.event = value;
      else if (field === "data") ev.data += (ev.data ? "\n" : "") + value;
    }
    if (ev.data) onEvent(ev);
  }
  return buffer;
}

/**
 * Follows the stream until stop(); after a drop it reconnects (quickly, then backing off to
 * 2 s) with Last-Event-ID, so nothing is missed; `onState` says whether it is up.
 */
export function followEvents(envId, { onEvent, onState, onFatal }) {
  let stopped = false;
  let lastId;
  let controller;
  (async () => {
    let attempt = 0;
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await fetch(`/v1/environments/${encodeURIComponent(envId)}/events`, {
          headers: { authorization: `Bearer ${session.key()}`, ...(lastId ? { "last-event-id": lastId } : {}) },
          signal: controller.signal,
        });
        if (res.status === 401 || res.status === 404) {
          // Not this key's environment (or no longer a valid key): retrying cannot help.
          const body = await res.json().catch(() => ({}));
          onFatal(`${res.status}: ${body.message || "not found"}`);
          return;
        }
        if (!res.ok) throw new Error(`events: HTTP ${res.status}`);
        onState(true);
        attempt = 0;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer = parseSse(buffer + value, (ev) => {
            if (ev.id) lastId = ev.id;
            try { onEvent(ev.event, JSON.parse(ev.data), ev.id); } catch (err) { console.error(err); }
          });
        }
      } catch (err) {
        if (stopped) return;
      }
      onState(false);
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt++)));
    }
  })();
  return { stop() { stopped = true; controller && controller.abort(); } };
}
