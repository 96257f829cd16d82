// The benchmark's printed report: sections of rows (what was measured, the figure, the target and
// whether it was met), plus free-form lines for side-by-side tables. Also the arithmetic of the
// upstream design's reservation, the baseline the reservation section compares against.
import type { Reservation } from '../../src/plan/reservation.ts';
import type { Stats } from './measure.ts';

export type Verdict = 'meets' | 'MISSES' | '';

type Row = { label: string; value: string; target: string; verdict: Verdict } | { line: string };

export class Report {
  readonly #header: string[] = [];
  readonly #sections: Array<{ title: string; rows: Row[] }> = [];

  header(line: string): void {
    this.#header.push(line);
  }

  section(title: string): void {
    this.#sections.push({ title, rows: [] });
  }

  row(label: string, value: string, target = '', verdict: Verdict = ''): void {
    this.#current().push({ label, value, target, verdict });
  }

  /** A row judged against a target: `ok` decides the verdict. */
  check(label: string, value: string, target: string, ok: boolean): void {
    this.row(label, value, target, ok ? 'meets' : 'MISSES');
  }

  line(text: string): void {
    this.#current().push({ line: text });
  }

  #current(): Row[] {
    const section = this.#sections[this.#sections.length - 1];
    if (section === undefined) throw new Error('Report: row before the first section');
    return section.rows;
  }

  render(): string {
    const rows = this.#sections.flatMap((s) => s.rows).filter((r) => 'label' in r);
    const labelWidth = Math.max(...rows.map((r) => r.label.length), 10);
    const valueWidth = Math.max(...rows.map((r) => r.value.length), 10);
    const targetWidth = Math.max(...rows.map((r) => r.target.length), 6);
    const out = [...this.#header, ''];
    for (const section of this.#sections) {
      out.push(section.title);
      for (const row of section.rows) {
        if ('line' in row) {
          out.push(`  ${row.line}`);
          continue;
        }
        const target = row.target === '' ? '' : `  ${row.target.padEnd(targetWidth)}  ${row.verdict}`;
        out.push(`  ${row.label.padEnd(labelWidth)}  ${row.value.padEnd(valueWidth)}${target}`.trimEnd());
      }
      out.push('');
    }
    return out.join('\n');
  }
}

export const ms = (value: number): string => (Number.isFinite(value) ? `${Math.round(value)} ms` : 'n/a');
export const sec = (value: number): string => (Number.isFinite(value) ? `${(value / 1000).toFixed(1)} s` : 'n/a');
export const mibText = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(1)} MiB` : 'n/a');

/** "312 ms (min 298, max 340, n=10)" */
export function spread(s: Stats, unit: 'ms' | 'MiB'): string {
  const f = (v: number): string => (unit === 'ms' ? String(Math.round(v)) : v.toFixed(1));
  return `${f(s.median)} ${unit} (min ${f(s.min)}, max ${f(s.max)}, n=${s.n})`;
}

export function cpuText(cores: number): string {
  return cores >= 1 ? String(Number(cores.toFixed(3))) : `${Math.round(cores * 1000)}m`;
}

export function memoryText(bytes: number): string {
  const gib = bytes / 2 ** 30;
  return gib >= 1 ? `${Number(gib.toFixed(2))}Gi` : `${Math.round(bytes / 2 ** 20)}Mi`;
}

/**
 * The upstream kubernetes-image-puller design: one long-running (sleeping) container per image,
 * each with the default 10Mi/20Mi memory and 50m/200m CPU, so the pod's reservation is their sum.
 */
export function upstreamReservation(images: number): Reservation {
  return {
    requests: { cpu: 0.05 * images, memory: 10 * 2 ** 20 * images },
    limits: { cpu: 0.2 * images, memory: 20 * 2 ** 20 * images },
  };
}

export function reservationText(r: Reservation): { requests: string; limits: string } {
  return {
    requests: `${cpuText(r.requests.cpu)}/${memoryText(r.requests.memory)}`,
    limits: `${cpuText(r.limits.cpu)}/${memoryText(r.limits.memory)}`,
  };
}

/** limits × nodes, as a ResourceQuota's limits.cpu / limits.memory would have to allow. */
export function quotaText(r: Reservation, nodes: number): string {
  return `${cpuText(r.limits.cpu * nodes)}/${memoryText(r.limits.memory * nodes)}`;
}
