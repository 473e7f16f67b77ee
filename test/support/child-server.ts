import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { waitFor } from '@app/testing';

const MAIN = join(__dirname, '..', '..', 'dist', 'apps', 'scim-server', 'src', 'main.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * The built server (`npm run build`, run by `pretest`) as a real child process, for tests
 * that must kill it the hard way.
 */
export class ChildServer {
  private output = '';
  private constructor(
    readonly process: ChildProcess,
    readonly url: string,
  ) {}

  /** `port` to come back on the same address (a restarted instance); `readyWithinMs` for busy machines. */
  static async start(env: Record<string, string>, options: { port?: number; readyWithinMs?: number } = {}): Promise<ChildServer> {
    const port = options.port ?? (await freePort());
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ChildServer(child, `http://127.0.0.1:${port}`);
    child.stdout?.on('data', (d: Buffer) => (server.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (server.output += d.toString()));
    const ready = async () => {
      if (child.exitCode !== null) throw new Error(`server exited: ${server.output}`);
      try {
        return (await fetch(`${server.url}/health/ready`)).status === 200;
      } catch {
        return false; // not listening yet
      }
    };
    try {
      await waitFor(ready, { timeoutMs: options.readyWithinMs ?? 30_000, intervalMs: 100, what: 'readiness' });
      return server;
    } catch (err) {
      if (child.exitCode !== null) throw err;
      child.kill('SIGKILL');
      throw new Error(`server did not become ready: ${server.output}`, { cause: err });
    }
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  get logs(): string {
    return this.output;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return new Promise((resolve) => {
      if (this.process.exitCode !== null || this.process.signalCode !== null) return resolve();
      this.process.once('exit', () => resolve());
      this.process.kill(signal);
    });
  }
}
