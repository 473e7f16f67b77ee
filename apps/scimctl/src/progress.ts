/**
 * Progress on stderr, so stdout stays the result. On a terminal a bar redrawn in place (at
 * most ten times a second); otherwise a plain line at every tenth, which logs keep readable.
 */
export class Progress {
  private lastDraw = 0;
  private lastTenth = -1;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = out.isTTY === true;
  }

  update(done: number): void {
    const fraction = this.total > 0 ? Math.min(1, done / this.total) : 1;
    if (this.tty) {
      const now = Date.now();
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
    return `${n(done)}/${n(this.total)} ${this.unit}`;
  }
}
