/**
 * The Markdown report (bench/results/latest.md): per part, the command, the machine, the workload, the
 * numbers and the plots. README links to it, so it reads on its own.
 */
import { flattenRows } from './format.js';
import { machineLine } from './machine.js';
import type { ResultsFile } from './results.js';

const ORDER = ['engine', 'core', 'risk', 'e2e', 'persistence', 'recovery'];

export function renderMarkdown(all: ResultsFile): string {
  const out: string[] = ['# Benchmark report', ''];
  out.push(
    `Generated ${all.generatedAt}. Re-run everything with \`npm run bench\`, one part with \`npm run bench -- <part>\`.`,
    '',
  );
  const names = Object.keys(all.parts).sort((a, b) => rank(a) - rank(b));
  out.push('| part | status | when | duration | command |', '|---|---|---|---|---|');
  for (const name of names) {
    const p = all.parts[name];
    out.push(
      `| [${name}](#${name}) | ${p.status} | ${p.startedAt} | ${p.durationSec.toFixed(1)} s | \`${p.command}\` |`,
    );
  }
  out.push('');
  for (const name of names) {
    const p = all.parts[name];
    out.push(`## ${name}`, '');
    out.push(
      `- command: \`${p.command}\``,
      `- machine: ${machineLine(p.machine)}`,
      `- started ${p.startedAt}, took ${p.durationSec.toFixed(1)} s`,
    );
    const workload = p.result?.workload;
    if (typeof workload === 'string') out.push(`- workload: ${workload}`);
    out.push('');
    if (p.status !== 'ok') {
      out.push(`**${p.status}**: ${p.error ?? ''}`, '');
      continue;
    }
    const rows = flattenRows(p.result ?? {}).filter(([k]) => k !== 'workload');
    out.push('| metric | value |', '|---|---|');
    for (const [k, v] of rows) out.push(`| ${k} | ${v.replaceAll('|', '\\|')} |`);
    out.push('');
    for (const file of p.plots ?? []) out.push(`![${file}](${file})`, '');
  }
  return `${out.join('\n')}\n`;
}

function rank(name: string): number {
  const i = ORDER.indexOf(name);
  return i < 0 ? ORDER.length : i;
}
