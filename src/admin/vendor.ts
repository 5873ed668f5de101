/**
 * uPlot (MIT, https://github.com/leeoniya/uPlot), the chart library Grafana's time-series panels
 * use, served by the admin listener from the installed `uplot` package: its minified browser
 * build, its stylesheet and its licence, read once on first use. Nothing is fetched from the
 * network, and the page's CSP (`script-src 'self'`) holds: uPlot draws on canvas and sets
 * styles through the CSSOM, never inline markup.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface VendorAsset {
  readonly contentType: string;
  readonly body: string;
}

const FILES: Readonly<Record<string, { readonly file: string; readonly contentType: string }>> = {
  '/vendor/uplot.js': { file: 'uplot/dist/uPlot.iife.min.js', contentType: 'text/javascript; charset=utf-8' },
  '/vendor/uplot.css': { file: 'uplot/dist/uPlot.min.css', contentType: 'text/css; charset=utf-8' },
  '/vendor/uplot.LICENSE.txt': { file: 'uplot/LICENSE', contentType: 'text/plain; charset=utf-8' },
};

export const VENDOR_PATHS: readonly string[] = Object.keys(FILES);

const cache = new Map<string, VendorAsset>();

/** The asset at `path` (one of VENDOR_PATHS); throws when the package is missing (a 500). */
export function vendorAsset(path: string): VendorAsset {
  let a = cache.get(path);
  if (a === undefined) {
    const f = FILES[path];
    if (f === undefined) throw new Error(`no vendored asset ${path}`);
    a = { contentType: f.contentType, body: readFileSync(require.resolve(f.file), 'utf8') };
    cache.set(path, a);
  }
  return a;
}
