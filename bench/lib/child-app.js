// The parent's side of lib/app-process.js: starts a Roster app in a child process and talks to it.
/* global URL */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Answers the next message of `type` from `child`. */
function nextMessage(child, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message);
    };
    const onExit = (code) => reject(new Error(`app process exited with ${code} before '${type}'`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/**
 * Starts `app` ('scim' or 'sso') in a child process on `url`; `execArgv` adds node flags (e.g.
 * --cpu-prof). Resolves to { port, pid, countStatements(), stats(), stop() }.
 */
export async function startAppProcess(app, url, { poolMax = 10, execArgv = [] } = {}) {
  const child = fork(new URL('./app-process.js', import.meta.url), [app, url, String(poolMax)], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { port } = await nextMessage(child, 'listening');
  return {
    port,
    pid: child.pid,
    async countStatements() {
      const answer = nextMessage(child, 'counting');
      child.send({ type: 'count-statements' });
      await answer;
    },
    /** { cpu: { user, system } in µs since start, statements: { total, byKind, byText } } */
    async stats() {
      const answer = nextMessage(child, 'stats');
      child.send({ type: 'stats' });
      return answer;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      await exited;
    },
  };
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat; null elsewhere. */
export function machineCpu() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = fields[3] + (fields[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}
