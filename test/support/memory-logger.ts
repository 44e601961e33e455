import type { Logger } from '../../tasks/common/logging/logger';

/** A logger that records lines in memory, for tests. */
export class MemoryLogger implements Logger {
  readonly lines: string[] = [];

  info(message: string): void {
    this.lines.push(message);
  }
  warn(message: string): void {
    this.lines.push(`warning: ${message}`);
  }
  debug(message: string): void {
    this.lines.push(`debug: ${message}`);
  }
  startGroup(name: string): void {
    this.lines.push(`group: ${name}`);
  }
  endGroup(): void {
    this.lines.push('endgroup');
  }
  progress(percent: number, label: string): void {
    this.lines.push(`progress: ${percent} ${label}`);
  }
}
