// Run by Bun (test/bun.test.ts) beside a Node `jsonl-mirror tail` on the same mirror: a Bun writer appends
// `count` events while another program appends its own lines, the log is renamed away halfway (a rotation),
// and then a Bun reader pages through every event. Prints what the reader saw, as JSON.
import { appendFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { createReader, createWriter } from '../../dist/src/index.js';

const [dir, countText] = process.argv.slice(2) as [string, string];
const count = Number(countText);
const log = join(dir, 'events.jsonl');
const problems: string[] = [];
const writer = createWriter({ dir, onProblem: (e: { code: string }) => problems.push(e.code) });
let other = 0;
for (let i = 0; i < count; i++) {
  writer.append('events', { type: 'bun.writer', ts_epoch: 1770768000 + i, n: i });
  if (i % 7 === 3) appendFileSync(log, `${JSON.stringify({ type: 'other.program', ts_epoch: 1770768000 + i, n: other++ })}\n`);
  if (i === Math.floor(count / 2)) renameSync(log, `${log}.1`);
  // Yield now and then, so the tailer's watch and the writer's rotation check both get to run.
  if (i % 25 === 0) await new Promise((r) => setTimeout(r, 5));
}
writer.close();

const reader = createReader({ dir, source: 'sqlite' });
const seen: { type: string; n: number }[] = [];
let page = reader.activity({ limit: 200, now: 1770768000 + count });
seen.push(...(page.events as { type: string; n: number }[]));
while (page.nextCursor) {
  page = reader.activity({ limit: 200, now: 1770768000 + count, cursor: page.nextCursor });
  seen.push(...(page.events as { type: string; n: number }[]));
}
const answeredBy = reader.answeredBy;
reader.close();
process.stdout.write(JSON.stringify({ other, problems, answeredBy, writer: writer.stats(), seen: seen.map((e) => `${e.type}:${e.n}`) }));
