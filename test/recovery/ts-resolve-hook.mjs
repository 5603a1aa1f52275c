/** Module hook for ts-register.mjs: `file:///.../x.js` that does not exist but `x.ts` does -> `x.ts`. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function resolve(specifier, context, nextResolve) {
  if (specifier.startsWith('file://') && specifier.endsWith('.js')) {
    const path = fileURLToPath(specifier);
    const ts = `${path.slice(0, -3)}.ts`;
    if (!existsSync(path) && existsSync(ts)) return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
  }
  return nextResolve(specifier, context);
}
