import t from "tap";
import { DashboardAssets } from "../../../runtime/dashboard/assets";

t.test("dashboard files: own files and vendored libraries, nothing else", async (t) => {
  const assets = new DashboardAssets();
  t.match(assets.get("")?.body.toString(), /<script type="module" src="\/dashboard\/app.js">/, "the page");
  t.equal(assets.get("app.js")?.contentType, "text/javascript; charset=utf-8");
  t.ok(assets.get("vendor/preact.mjs"), "preact from the installed package");
  t.ok(assets.get("vendor/uplot.mjs"), "uPlot");
  t.ok(assets.get("vendor/htm.mjs"), "htm (which exports no package.json)");
  const hooks = assets.get("vendor/hooks.mjs")?.body.toString() ?? "";
  t.match(hooks, /from"\.\/preact\.mjs"/, "preact/hooks imports preact by a path the browser resolves");
  t.notMatch(hooks, /from\s*["']preact["']/, "no bare specifier left");
  for (const bad of ["../package.json", "vendor/../../package.json", "index.html/..", "vendor/preact", "APP.JS", "x/app.js", "%2e%2e/package.json"]) {
    t.equal(assets.get(bad), undefined, `${bad} refused`);
  }
});
