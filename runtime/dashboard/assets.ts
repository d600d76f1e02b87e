/**
 * The dashboard's files: its own (dashboard/ at the package root, plain ES modules, no
 * build step) and the front-end libraries it imports, served from the installed packages
 * (they are dependencies, so they ship with drover and nothing comes from a CDN).
 * Files are read once and kept in memory; paths are looked up in a fixed table, never
 * joined from the URL, so no request can reach another file.
 */
import * as fs from "fs";
import * as path from "path";

export interface Asset {
  body: Buffer;
  contentType: string;
}

const packageRoot = path.resolve(__dirname, "../../..");
export const dashboardDir = path.join(packageRoot, "dashboard");

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** A file of an installed package, found the way Node looks for packages (some export no package.json). */
function packageFile(pkg: string, file: string): string {
  for (const dir of require.resolve.paths(pkg) ?? []) {
    if (fs.existsSync(path.join(dir, pkg, "package.json"))) return path.join(dir, pkg, file);
  }
  throw new Error(`the dashboard needs the package ${pkg}, which is not installed`);
}

/** URL name under /dashboard/vendor/ → file, and how to make its imports resolvable without an import map. */
const vendor: Record<string, () => { file: string; rewrite?: (text: string) => string }> = {
  "preact.mjs": () => ({ file: packageFile("preact", "dist/preact.module.js") }),
  "hooks.mjs": () => ({ file: packageFile("preact", "hooks/dist/hooks.module.js"), rewrite: (t) => t.replace(/from\s*["']preact["']/g, 'from"./preact.mjs"') }),
  "htm.mjs": () => ({ file: packageFile("htm", "dist/htm.module.js") }),
  "uplot.mjs": () => ({ file: packageFile("uplot", "dist/uPlot.esm.js") }),
  "uplot.css": () => ({ file: packageFile("uplot", "dist/uPlot.min.css") }),
};

export class DashboardAssets {
  private readonly cache = new Map<string, Asset | null>();

  /** `name`: the path under /dashboard/ ("app.js", "vendor/preact.mjs"), or "" for the page. */
  get(name: string): Asset | undefined {
    if (this.cache.has(name)) return this.cache.get(name) ?? undefined;
    const asset = this.load(name);
    this.cache.set(name, asset ?? null);
    return asset;
  }

  private load(name: string): Asset | undefined {
    let file: string;
    let rewrite: ((t: string) => string) | undefined;
    if (name === "") {
      file = path.join(dashboardDir, "index.html");
    } else if (name.startsWith("vendor/")) {
      const entry = Object.prototype.hasOwnProperty.call(vendor, name.slice(7)) ? vendor[name.slice(7)]() : undefined;
      if (!entry) return undefined;
      ({ file, rewrite } = entry);
    } else {
      // Own files: one level, plain names only.
      if (!/^[a-z0-9-]+\.(js|css|svg)$/.test(name)) return undefined;
      file = path.join(dashboardDir, name);
    }
    const contentType = types[path.extname(file)];
    if (!contentType) return undefined;
    try {
      const raw = fs.readFileSync(file);
      return { body: rewrite ? Buffer.from(rewrite(raw.toString("utf8"))) : raw, contentType };
    } catch {
      return undefined;
    }
  }
}
