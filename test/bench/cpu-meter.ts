/**
 * How busy the box was with OTHER work while a phase ran (Linux only): all CPU time spent
 * (/proc/stat) minus what this process, its finished children (/proc/self/stat cutime/cstime)
 * and its long-lived children (rig services, Azurite, simulators) used. A benchmark on a shared
 * 2-core machine needs this to tell a slow task from a busy neighbour.
 */
import * as fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function totalBusyTicks(): number | undefined {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    return f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
  } catch {
    return undefined;
  }
}

/** utime+stime (and with `children`, cutime+cstime) of a process, in ticks; 0 when it is gone. */
function processTicks(pid: number | 'self', children = false): number {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ').map(Number);
    return f[11] + f[12] + (children ? f[13] + f[14] : 0);
  } catch {
    return 0;
  }
}

export interface CpuUse {
  seconds: number;
  /** Average cores busy with anything. */
  allCores: number;
  /** Average cores used by the benchmark and its processes. */
  ownCores: number;
  /** Average cores used by everything else on the machine. */
  foreignCores: number;
}

export class CpuMeter {
  private start?: { at: number; total: number; own: number };

  constructor(private readonly childPids: () => number[]) {}

  private own(): number {
    return processTicks('self', true) + this.childPids().reduce((a, pid) => a + processTicks(pid), 0);
  }

  begin(): void {
    const total = totalBusyTicks();
    this.start = total === undefined ? undefined : { at: performance.now(), total, own: this.own() };
  }

  end(): CpuUse | undefined {
    const total = totalBusyTicks();
    if (!this.start || total === undefined) return undefined;
    const seconds = (performance.now() - this.start.at) / 1000;
    const all = (total - this.start.total) / TICKS_PER_SECOND / seconds;
    const own = (this.own() - this.start.own) / TICKS_PER_SECOND / seconds;
    return { seconds, allCores: all, ownCores: own, foreignCores: Math.max(0, all - own) };
  }
}
