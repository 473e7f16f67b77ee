/**
 * Progress on stderr, so stdout stays the result. On a terminal a bar redrawn in place (at
 * most ten times a second); otherwise a plain line at every tenth, which logs keep readable.
 * Each shows the counts, the rate so far and the time left at that rate. (Written here rather
 * than taken from cli-progress: this is all the CLI needs, including the plain-line mode for
 * logs, and the verifier auditors install on their own machines keeps a small dependency tree.)
 */
export class Progress {
  private lastDraw = 0;
  private lastTenth = -1;
  private readonly tty: boolean;
  private readonly started: number;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit: string,
    private readonly out: Pick<NodeJS.WriteStream, 'write' | 'isTTY'> = process.stderr,
    private readonly now: () => number = Date.now,
  ) {
    this.tty = out.isTTY === true;
    this.started = now();
  }

  update(done: number): void {
    const fraction = this.total > 0 ? Math.min(1, done / this.total) : 1;
    if (this.tty) {
      const now = this.now();
      if (now - this.lastDraw < 100 && done < this.total) return;
      this.lastDraw = now;
      const width = 30;
      const filled = Math.round(fraction * width);
      this.out.write(`\r${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${this.counts(done)}\x1b[K`);
    } else {
      const tenth = Math.floor(fraction * 10);
      if (tenth === this.lastTenth) return;
      this.lastTenth = tenth;
      this.out.write(`${this.label}: ${tenth * 10}% ${this.counts(done)}\n`);
    }
  }

  finish(done: number): void {
    this.update(done);
    if (this.tty) this.out.write('\n');
  }

  private counts(done: number): string {
    const n = (v: number) => v.toLocaleString('en-US');
    const counts = `${n(done)}/${n(this.total)} ${this.unit}`;
    const seconds = (this.now() - this.started) / 1000;
    if (done <= 0 || seconds <= 0) return counts;
    const rate = done / seconds;
    const left = done < this.total ? ` · ${duration((this.total - done) / rate)} left` : ` · ${duration(seconds)}`;
    return `${counts} · ${n(Math.round(rate))}/s${left}`;
  }
}

/** 0:07, 3:25, 1:02:03 */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (v: number) => String(v).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}
