// Summarises a V8 .cpuprofile (`node --cpu-prof`): the top entries by self time, grouped by
// function and file, and the self time per package. Idle time is left out of the shares.
//
//   node bench/lib/summarise-cpu-profile.js <file.cpuprofile> [--top=15] [--markdown]
/* global console, process */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where a frame's code lives, short: `pkg/path/in/pkg.js` for dependencies, repo-relative otherwise. */
function shortFile(url) {
  if (!url) return '';
  if (url.startsWith('node:')) return url;
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const inModules = path.lastIndexOf('node_modules/');
  if (inModules >= 0) return path.slice(inModules + 'node_modules/'.length);
  const inRepo = /\/(apps|packages|bench)\/(.*)$/.exec(path);
  return inRepo ? `${inRepo[1]}/${inRepo[2]}` : path;
}

/** The package a frame belongs to: a dependency's name, a workspace, `node:internal` or V8's own. */
function packageOf(callFrame) {
  const { url, functionName } = callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node: (internals)';
  const file = shortFile(url);
  if (url.includes('node_modules/')) {
    const parts = file.split('/');
    if (parts[0] === '@roster') return `@roster/${parts[1]}`;
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const workspace = /^(apps|packages)\/([^/]+)/.exec(file);
  return workspace ? `@roster/${workspace[2]}` : file;
}

/**
 * Self time per function+file and per package of `profile` (parsed .cpuprofile JSON):
 * { totalMs, idleMs, functions: [{ name, file, ms, share }], packages: [{ name, ms, share }] },
 * shares of the non-idle time, largest first.
 */
export function summariseCpuProfile(profile) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfByNode = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    // V8 attributes the delta before sample i+1 to sample i; the last one has none.
    const delta = timeDeltas[i + 1] ?? 0;
    selfByNode.set(samples[i], (selfByNode.get(samples[i]) ?? 0) + Math.max(0, delta));
  }
  const functions = new Map();
  const packages = new Map();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfByNode) {
    const { callFrame } = nodes.get(id);
    totalUs += us;
    if (callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const name = callFrame.functionName || '(anonymous)';
    const file = shortFile(callFrame.url);
    const key = `${name}\u0000${file}`;
    const entry = functions.get(key) ?? { name, file, line: callFrame.lineNumber + 1, us: 0 };
    entry.us += us;
    functions.set(key, entry);
    const pkg = packageOf(callFrame);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const share = (us) => (busyUs > 0 ? us / busyUs : 0);
  return {
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    functions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .map(({ name, file, line, us }) => ({ name, file, line, ms: us / 1000, share: share(us) })),
    packages: [...packages.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, ms: us / 1000, share: share(us) })),
  };
}

const pct = (share) => `${(100 * share).toFixed(1)} %`;

/** The summary as text lines (or Markdown tables): the top `top` functions and packages. */
export function formatSummary(summary, { top = 15, markdown = false } = {}) {
  const busy = summary.totalMs - summary.idleMs;
  const lines = [
    `sampled ${summary.totalMs.toFixed(0)} ms, of which idle ${summary.idleMs.toFixed(0)} ms; shares below are of the ${busy.toFixed(0)} ms busy`,
    '',
  ];
  const where = (f) => (f.file ? `${f.file}:${f.line}` : '');
  if (markdown) {
    lines.push('| # | self | ms | function | file |', '| - | ---- | -- | -------- | ---- |');
    summary.functions.slice(0, top).forEach((f, i) => {
      lines.push(
        `| ${i + 1} | ${pct(f.share)} | ${f.ms.toFixed(0)} | \`${f.name}\` | ${where(f) ? `\`${where(f)}\`` : ''} |`,
      );
    });
    lines.push('', '| package | self | ms |', '| ------- | ---- | -- |');
    for (const p of summary.packages.slice(0, top)) {
      lines.push(`| \`${p.name}\` | ${pct(p.share)} | ${p.ms.toFixed(0)} |`);
    }
  } else {
    lines.push('top functions by self time:');
    summary.functions.slice(0, top).forEach((f, i) => {
      lines.push(
        `${String(i + 1).padStart(3)}. ${pct(f.share).padStart(7)} ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}  ${where(f)}`,
      );
    });
    lines.push('', 'self time by package:');
    for (const p of summary.packages.slice(0, top)) {
      lines.push(`     ${pct(p.share).padStart(7)} ${p.ms.toFixed(0).padStart(7)} ms  ${p.name}`);
    }
  }
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  if (!file) {
    console.error(
      'usage: node bench/lib/summarise-cpu-profile.js <file.cpuprofile> [--top=15] [--markdown]',
    );
    process.exit(2);
  }
  const top = Number(process.argv.find((arg) => arg.startsWith('--top='))?.slice(6) ?? 15);
  const summary = summariseCpuProfile(JSON.parse(readFileSync(file, 'utf8')));
  console.log(formatSummary(summary, { top, markdown: process.argv.includes('--markdown') }));
}
