import { describe, expect, it } from '@jest/globals';
import { duration, Progress } from './progress';

function sink(isTTY: boolean) {
  const lines: string[] = [];
  return { out: { isTTY, write: (text: string) => (lines.push(text), true) }, lines };
}

describe('Progress', () => {
  it('off a terminal: a line at every tenth with counts, the rate so far and the time left', () => {
    let now = 1_000_000;
    const { out, lines } = sink(false);
    const bar = new Progress('verifying', 10_000, 'events', out, () => now);
    now += 2_000;
    bar.update(1_000);
    now += 8_000;
    bar.update(5_000);
    bar.update(5_001); // same tenth: no new line
    now += 10_000;
    bar.finish(10_000);
    expect(lines).toEqual([
      'verifying: 10% 1,000/10,000 events · 500/s · 0:18 left\n',
      'verifying: 50% 5,000/10,000 events · 500/s · 0:10 left\n',
      'verifying: 100% 10,000/10,000 events · 500/s · 0:20\n',
    ]);
  });

  it('on a terminal: one bar redrawn in place, at most ten times a second', () => {
    let now = 0;
    const { out, lines } = sink(true);
    const bar = new Progress('exporting', 100, 'records', out, () => now);
    now = 1_000;
    bar.update(10);
    now = 1_050;
    bar.update(20); // 50 ms later: not redrawn
    now = 2_000;
    bar.finish(100);
    expect(lines).toEqual([
      '\rexporting [###---------------------------]  10% 10/100 records · 10/s · 0:09 left\x1b[K',
      '\rexporting [##############################] 100% 100/100 records · 50/s · 0:02\x1b[K',
      '\n',
    ]);
  });

  it('writes durations as people read them', () => {
    expect([duration(7), duration(205), duration(3723), duration(-1)]).toEqual(['0:07', '3:25', '1:02:03', '0:00']);
  });
});
