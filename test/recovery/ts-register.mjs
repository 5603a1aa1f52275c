/**
 * `node --import ./test/recovery/ts-register.mjs src/main.ts`: runs the product from its TypeScript
 * sources, as the test suite does (no `npm run build` before `npm test`). jiti transpiles; the hook below
 * lets an absolute `.js` path that exists only as `.ts` (main.ts forks `../persistence/main.js`, written
 * for dist/) resolve to the `.ts` file. Forked children inherit this flag through execArgv.
 */
import { register } from 'node:module';
import 'jiti/register';

// Registered after jiti's hooks, so it runs first and hands the rewritten specifier on to jiti.
register('./ts-resolve-hook.mjs', import.meta.url);
