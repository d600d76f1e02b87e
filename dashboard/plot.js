// A live uPlot chart fed from the StatsClient: it redraws with setData when samples come.
import { h } from "./vendor/preact.mjs";
import { useEffect, useRef } from "./vendor/hooks.mjs";

// uPlot is loaded when a first plot is shown, so pages without plots never parse it.
let uPlotModule;
const loadUPlot = () => (uPlotModule ??= import("./vendor/uplot.mjs").then((m) => m.default));

/** `series`: [{label, value: (sample) => number}] over one host's samples. */
export function LivePlot({ stats, hostId, title, series, testid }) {
  const el = useRef();
  useEffect(() => {
    let cleanup = () => {};
    let cancelled = false;
    loadUPlot().then((uPlot) => {
      if (cancelled) return;
      cleanup = draw(uPlot);
    });
    return () => { cancelled = true; cleanup(); };
  }, [stats, hostId]);
  const draw = (uPlot) => {
    const opts = {
      title, width: 420, height: 160,
      scales: { x: { time: true } },
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: ["#0b5cad", "#c62828", "#1a7f37"][i % 3] }))],
    };
    const plot = new uPlot(opts, data(stats, hostId, series), el.current);
    const mark = () => {
      // What the tests read: how many points, the newest, and the widest gap between two.
      const xs = plot.data[0];
      el.current.dataset.points = String(xs.length);
      el.current.dataset.lastT = xs.length ? String(Math.round(xs[xs.length - 1] * 1000)) : "";
      let gap = 0;
      for (let i = 1; i < xs.length; i++) gap = Math.max(gap, xs[i] - xs[i - 1]);
      el.current.dataset.maxGapMs = String(Math.round(gap * 1000));
    };
    mark();
    const off = stats.subscribe(() => {
      plot.setData(data(stats, hostId, series));
      mark();
    });
    return () => { off(); plot.destroy(); };
  };
  return h("div", { ref: el, class: "plot", "data-testid": testid, "data-host": hostId });
}

function data(stats, hostId, series) {
  const samples = (stats.hosts.get(hostId) || { samples: [] }).samples;
  return [samples.map((s) => s.t / 1000), ...series.map((s) => samples.map((x) => s.value(x)))];
}
