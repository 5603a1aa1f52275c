/** The project's root, whether this code runs from bench/ (tsx, vitest) or from dist/bench/ (npm run bench). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function projectRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url)); // .../bench/lib or .../dist/bench/lib
  const marker = `${path.sep}dist${path.sep}`;
  return here.includes(marker) ? here.slice(0, here.lastIndexOf(marker)) : path.join(here, '..', '..');
}
